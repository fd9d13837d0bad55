import type { CatalogueEvent } from "../../../services/events/events.types";
import { countryOfZone, gather, type GatherSources } from "../../../services/notifications/gather";
import type { NotificationRequest } from "../../../services/notifications/notifications.types";
import type { Order } from "../../../services/orders/orders.types";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const startsAt = T0 + 3_600_000;

const order = {
  id: "o1",
  number: "TL-1",
  eventId: "e1",
  customer: { email: "ann@example.com", phone: "+79001234567" },
  amount: 100,
  refundedAmount: 0,
  currency: "RUB",
  tickets: [{ id: "t1", barcode: "B1", categoryName: "Floor", price: 100, currency: "RUB", status: "active" }],
} as unknown as Order;

const event = (overrides: Partial<CatalogueEvent> = {}) =>
  ({
    id: "e1",
    name: "Gig",
    startsAt,
    timezone: "Europe/Moscow",
    status: "on_sale",
    venue: { name: "Hall", address: "Street 1", city: "Moscow", timezone: "Europe/Moscow" },
    ...overrides,
  }) as CatalogueEvent;

const reminder: NotificationRequest = {
  id: "n1",
  kind: "event_reminder",
  channel: "email",
  recipient: "ann@example.com",
  orderId: "o1",
  eventId: "e1",
  userId: "u1",
  params: { kind: "event_reminder", startsAt },
  cause: "reminder:e1",
};

function sources(e: CatalogueEvent): GatherSources {
  return {
    order: async () => order,
    event: async () => e,
    profile: async () => null,
    orderUrl: (id) => `https://tickets.example/orders/${id}?t=x`,
  };
}

describe("gathering at send time", () => {
  it("gives the message the order, its event and the language of the venue's country", async () => {
    const gathered = await gather(reminder, sources(event()), T0);
    expect(gathered).toMatchObject({
      data: {
        kind: "event_reminder",
        locale: "ru",
        order: { id: "o1", url: "https://tickets.example/orders/o1?t=x", tickets: [{ barcode: "B1" }] },
        event: { name: "Gig", country: "RU", venue: { city: "Moscow" } },
      },
    });
    expect(countryOfZone("Europe/Berlin")).toBeNull();
  });

  it("skips a reminder for an event that was cancelled, moved or has started", async () => {
    expect(await gather(reminder, sources(event({ status: "cancelled" })), T0)).toEqual({ skip: "event cancelled" });
    expect(await gather(reminder, sources(event({ startsAt: startsAt + 60_000 })), T0)).toEqual({ skip: "event moved" });
    expect(await gather(reminder, sources(event()), startsAt)).toEqual({ skip: "event started" });
  });

  it("skips a push to a device the user no longer has", async () => {
    const push = { ...reminder, channel: "push" as const, recipient: "d1", params: { kind: "order_paid" as const } };
    expect(await gather(push, sources(event()), T0)).toEqual({ skip: "device removed" });
  });
});
