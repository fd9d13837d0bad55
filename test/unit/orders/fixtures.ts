/** The order most tests of the order decider start from: placed by a buyer, then given its payment. */
import type { AttachPayment, PlaceOrder } from "../../../services/orders/orders.types";

export const T0 = Date.parse("2030-01-01T12:00:00Z");
export const buyer = { sub: "buyer-1", roles: ["customer" as const] };
export const system = { sub: "system", roles: ["admin" as const] };

export const place: PlaceOrder = {
  type: "PlaceOrder",
  actor: buyer,
  at: T0,
  id: "o1",
  number: "TL-0001",
  eventId: "e1",
  organizerId: "org-1",
  customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
  lines: [
    { categoryId: "floor", categoryName: "Floor", quantity: 2, unitPrice: 350000 },
    { categoryId: "vip", categoryName: "VIP", quantity: 1, seats: ["A:1:1"], unitPrice: 900000 },
  ],
  currency: "RUB",
  expiresAt: T0 + 15 * 60_000,
};

export const attach: AttachPayment = {
  type: "AttachPayment",
  actor: system,
  at: T0,
  id: "o1",
  paymentId: "pay-1",
  confirmationUrl: "https://pay/1",
};
