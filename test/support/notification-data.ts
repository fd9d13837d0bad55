/** Sample NotificationData for tests: an order of three seated tickets to an evening concert in Moscow. */
import type { Locale } from "../../lib/domain/notifications";
import type { NotificationData, OrderView, TicketView } from "../../services/notifications/notification-data";

/** 2026-06-01 19:00 in Moscow (UTC+3). */
export const STARTS_AT = Date.parse("2026-06-01T16:00:00Z");

export function sampleTickets(count: number, overrides: Partial<TicketView> = {}): TicketView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `ticket-${i + 1}`,
    barcode: `8F3A0C1E5B7D9A2C4E6F8091A3B5C7D${i + 1}`,
    categoryName: "Партер",
    row: "7",
    seat: String(12 + i),
    price: 150000,
    currency: "RUB",
    status: "active",
    ...overrides,
  }));
}

type Extra<K extends NotificationData["kind"]> = Omit<
  Extract<NotificationData, { kind: K }>,
  "kind" | "locale" | "order" | "event"
>;

export function sampleData<K extends NotificationData["kind"]>(
  kind: K,
  locale: Locale,
  extra: Extra<K>,
  change: { tickets?: TicketView[]; order?: Partial<OrderView>; event?: Partial<NotificationData["event"]> } = {},
): Extract<NotificationData, { kind: K }> {
  const tickets = change.tickets ?? sampleTickets(3);
  return {
    kind,
    locale,
    ...extra,
    order: {
      id: "order-1",
      number: "MSK-0042",
      amount: tickets.reduce((sum, t) => sum + t.price, 0),
      refundedAmount: 0,
      currency: "RUB",
      customer: { email: "buyer@example.test", phone: "+79990000000", firstName: "Анна", lastName: "Смирнова" },
      tickets,
      url: "https://tickets.example.test/orders/order-1?sig=abc&v=1",
      ...change.order,
    },
    event: {
      id: "event-1",
      name: "Концерт «Весна»",
      startsAt: STARTS_AT,
      timezone: "Europe/Moscow",
      venue: { name: "Крокус Сити Холл", address: "ул. Международная, 20", city: "Красногорск" },
      country: "RU",
      cancelReason: null,
      ...change.event,
    },
  } as Extract<NotificationData, { kind: K }>;
}
