import { DEFAULT_PREFERENCES, type UserProfile } from "../../../lib/domain/notifications";
import type { CatalogueEvent } from "../../../services/events/events.types";
import { planTrigger, type PlannerSources } from "../../../services/notifications/planner";
import { dueReminders, type ReminderSources } from "../../../services/notifications/reminders";
import type { NotificationTrigger } from "../../../services/notifications/triggers";
import type { Order } from "../../../services/orders/orders.types";

const T0 = Date.parse("2030-01-01T12:00:00Z");

function order(id: string, overrides: Partial<Order> = {}): Order {
  return {
    id,
    number: `TL-${id}`,
    eventId: "e1",
    organizerId: "org-1",
    customer: { email: `${id}@example.com`, phone: "+79001234567" },
    userId: `user-${id}`,
    lines: [],
    amount: 100000,
    currency: "RUB",
    status: "paid",
    expiresAt: T0,
    payment: null,
    tickets: [
      {
        id: `${id}-t1`,
        barcode: "B1",
        series: "A",
        number: "1",
        categoryId: "c",
        categoryName: "Floor",
        price: 100000,
        currency: "RUB",
        status: "active",
      },
    ],
    refundedAmount: 0,
    refundIds: [],
    createdAt: T0,
    ...overrides,
  };
}

function profile(userId: string, overrides: Partial<UserProfile> = {}): UserProfile {
  return {
    id: userId,
    name: null,
    email: null,
    phone: null,
    locale: null,
    timeZone: null,
    preferences: DEFAULT_PREFERENCES,
    devices: [],
    blocked: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const event = (overrides: Partial<CatalogueEvent> = {}): CatalogueEvent =>
  ({
    id: "e1",
    name: "Gig",
    startsAt: T0 + 7 * 86_400_000,
    timezone: "Europe/Moscow",
    venue: {
      id: "hall-1",
      name: "Hall",
      address: "Street 1",
      city: "Moscow",
      timezone: "Europe/Moscow",
      capacity: 10,
      seatIds: [],
    },
    status: "on_sale",
    ...overrides,
  }) as CatalogueEvent;

function sources(orders: Order[], profiles: UserProfile[] = [], before: CatalogueEvent | null = event()): PlannerSources {
  return {
    order: async (id) => orders.find((o) => o.id === id) ?? null,
    eventBefore: async () => before,
    ordersOfEvent: async () => orders.map((o) => o.id),
    profile: async (userId) => profiles.find((p) => p.id === userId) ?? null,
  };
}

function trigger(type: string, data: Record<string, unknown>, log: "sales" | "catalogue" = "sales"): NotificationTrigger {
  return { v: 1, log, eventId: `ev-${type}`, type, stream: `order-${String(data.id)}`, pos: 42, at: T0, data };
}

describe("planner", () => {
  it("asks for a receipt by e-mail to the order's address when the tickets are issued (no profile: the defaults)", async () => {
    const planned = await planTrigger(trigger("TicketsIssued", { id: "o1" }), sources([order("o1")]));
    expect(planned.map((p) => [p.request.kind, p.request.channel, p.request.recipient, p.skip])).toEqual([
      ["order_paid", "email", "o1@example.com", undefined],
    ]);
    expect(planned[0].request).toMatchObject({ orderId: "o1", eventId: "e1", userId: "user-o1" });
  });

  it("plans the same ids for the same trigger twice, so recording again changes nothing", async () => {
    const s = sources([order("o1")]);
    const first = await planTrigger(trigger("TicketsIssued", { id: "o1" }), s);
    const second = await planTrigger({ ...trigger("TicketsIssued", { id: "o1" }), pos: 99 }, s);
    expect(second.map((p) => p.request.id)).toEqual(first.map((p) => p.request.id));
  });

  it("follows the profile's preferences: SMS to the order's phone, push to every device", async () => {
    const prefs = { ...DEFAULT_PREFERENCES, order_paid: { email: false, sms: true, push: true } };
    const devices = ["d1", "d2"].map((id) => ({ id, target: { kind: "fcm" as const, token: `tok-${id}` }, addedAt: T0 }));
    const planned = await planTrigger(
      trigger("TicketsIssued", { id: "o1" }),
      sources([order("o1")], [profile("user-o1", { preferences: prefs, devices })]),
    );
    expect(planned.map((p) => [p.request.channel, p.request.recipient])).toEqual([
      ["sms", "+79001234567"],
      ["push", "d1"],
      ["push", "d2"],
    ]);
  });

  it("records a kind with no usable channel as skipped, channel none", async () => {
    const prefs = { ...DEFAULT_PREFERENCES, refund_done: { email: false, sms: false, push: true } };
    const planned = await planTrigger(
      trigger("TicketsRefunded", { id: "o1", refundId: "r1", ticketIds: ["o1-t1"], amount: 100, currency: "RUB" }),
      sources([order("o1")], [profile("user-o1", { preferences: prefs })]),
    );
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({
      request: { kind: "refund_done", channel: "none", recipient: "" },
      skip: "no usable channel",
    });
  });

  it("maps each sales event to its kind, and a customer's own cancellation to nothing", async () => {
    const s = sources([order("o1")]);
    const kinds = async (type: string, data: Record<string, unknown>) =>
      (await planTrigger(trigger(type, { id: "o1", ...data }), s))
        .filter((p) => p.request.channel === "email")
        .map((p) => p.request.params);
    expect(await kinds("OrderExpired", {})).toEqual([{ kind: "order_not_paid", reason: "expired" }]);
    expect(await kinds("OrderCancelled", { reason: "payment_failed" })).toEqual([
      { kind: "order_not_paid", reason: "payment_failed" },
    ]);
    expect(await kinds("OrderCancelled", { reason: "hold_lost" })).toEqual([
      { kind: "order_not_paid", reason: "payment_failed" },
    ]);
    expect(await kinds("OrderCancelled", { reason: "event_cancelled" })).toEqual([
      { kind: "event_cancelled", money: "not_charged" },
    ]);
    expect(await kinds("OrderCancelled", { reason: "customer" })).toEqual([]);
    expect(await kinds("TicketsRefunded", { refundId: "cx-abc", ticketIds: [], amount: 1, currency: "RUB" })).toEqual([
      { kind: "event_cancelled", money: "refunded" },
    ]);
    expect(await kinds("TicketsRefunded", { refundId: "r-7", ticketIds: ["o1-t1"], amount: 5, currency: "RUB" })).toEqual([
      { kind: "refund_done", refund: { id: "r-7", amount: 5, currency: "RUB", ticketIds: ["o1-t1"] } },
    ]);
  });

  it("gives each refund of an order a notification of its own", async () => {
    const s = sources([order("o1")]);
    const ids = await Promise.all(
      ["r-1", "r-2"].map(async (refundId) => {
        const data = { id: "o1", refundId, ticketIds: [], amount: 1, currency: "RUB" };
        return (await planTrigger(trigger("TicketsRefunded", data), s))[0].request.id;
      }),
    );
    expect(new Set(ids).size).toBe(2);
  });

  it("skips imported orders: the partner notifies its own buyers", async () => {
    const imported = order("o1", { source: { partner: "vibe", id: "x1" } });
    expect(await planTrigger(trigger("TicketsIssued", { id: "o1" }), sources([imported]))).toEqual([]);
  });

  it("tells every holder of a valid ticket about a new date, with the date before", async () => {
    const refunded = order("o2", { tickets: order("o2").tickets.map((t) => ({ ...t, status: "refunded" as const })) });
    const moved = { id: "e1", startsAt: T0 + 8 * 86_400_000 };
    const planned = await planTrigger(trigger("EventUpdated", moved, "catalogue"), sources([order("o1"), refunded, order("o3")]));
    expect(planned.map((p) => p.request.orderId)).toEqual(["o1", "o3"]);
    expect(planned[0].request.params).toMatchObject({
      kind: "event_changed",
      change: "startsAt",
      before: { startsAt: T0 + 7 * 86_400_000, timezone: "Europe/Moscow", venue: { name: "Hall" } },
    });
  });

  it("tells nobody about a change of name only, or a date set to the same value", async () => {
    const s = sources([order("o1")]);
    expect(await planTrigger(trigger("EventUpdated", { id: "e1", name: "New name" }, "catalogue"), s)).toEqual([]);
    expect(await planTrigger(trigger("EventUpdated", { id: "e1", startsAt: T0 + 7 * 86_400_000 }, "catalogue"), s)).toEqual([]);
  });
});

describe("reminders", () => {
  const startsAt = T0 + 3_600_000;
  function reminderSources(orders: Order[], reminded: string[] = []): ReminderSources {
    return {
      ...sources(orders),
      upcoming: async (now, before) => (startsAt > now && startsAt <= now + before ? [{ id: "e1", startsAt }] : []),
      reminded: async () => new Set(reminded),
    };
  }

  it("asks for one reminder per order with a valid ticket of an event starting within the window", async () => {
    const used = order("o2", { tickets: order("o2").tickets.map((t) => ({ ...t, status: "refunded" as const })) });
    const planned = await dueReminders(reminderSources([order("o1"), used, order("o3")], ["o3"]), T0, 86_400_000);
    expect(planned.map((p) => [p.request.orderId, p.request.params])).toEqual([["o1", { kind: "event_reminder", startsAt }]]);
  });

  it("plans nothing for an event starting later than the window", async () => {
    expect(await dueReminders(reminderSources([order("o1")]), T0, 1_000)).toEqual([]);
  });

  it("plans a new reminder when the event moves (the start is part of its id)", async () => {
    const a = await dueReminders(reminderSources([order("o1")]), T0, 86_400_000);
    const movedSources = { ...reminderSources([order("o1")]), upcoming: async () => [{ id: "e1", startsAt: startsAt + 60_000 }] };
    const b = await dueReminders(movedSources, T0, 86_400_000);
    expect(a[0].request.id).not.toBe(b[0].request.id);
  });
});
