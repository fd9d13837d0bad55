import { DomainError } from "../../../lib/eventlog/decider";
import { orderDecider } from "../../../services/orders/orders.decider";
import type { OrderCommand, OrderState, Ticket } from "../../../services/orders/orders.types";
import { attach, buyer, place, system, T0 } from "./fixtures";

const organizer = { sub: "olga", roles: ["organizer" as const], organizerId: "org-1" };
const stranger = { sub: "mallory", roles: ["organizer" as const], organizerId: "org-2" };
const buyer2 = () => ({ sub: "buyer-2", roles: ["customer" as const] });

function tickets(n: number): Omit<Ticket, "status">[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    barcode: `BC${i}`,
    series: "TL",
    number: String(i + 1),
    categoryId: i < 2 ? "floor" : "vip",
    categoryName: i < 2 ? "Floor" : "VIP",
    price: i < 2 ? 350000 : 900000,
    currency: "RUB",
  }));
}

function run(commands: OrderCommand[], state: OrderState = null): OrderState {
  for (const command of commands)
    for (const event of orderDecider.decide(command, state)) state = orderDecider.evolve(state, event);
  return state;
}

function refusal(command: OrderCommand, state: OrderState): DomainError {
  try {
    orderDecider.decide(command, state);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const issue = (paidAmount = 1_600_000, paidCurrency = "RUB"): OrderCommand => ({
  type: "IssueTickets",
  actor: system,
  at: T0 + 60_000,
  id: "o1",
  paymentId: "pay-1",
  paidAmount,
  paidCurrency,
  tickets: tickets(3),
});

describe("order decider", () => {
  test("an order is priced from its lines and waits for payment; placing it again is a no-op", () => {
    const state = run([place, attach]);
    expect(state).toMatchObject({ status: "awaiting_payment", amount: 1_600_000, userId: "buyer-1", payment: { id: "pay-1" } });
    expect(orderDecider.decide(place, state)).toEqual([]);
    expect(orderDecider.decide(attach, state)).toEqual([]);
    expect(refusal({ ...(attach as object), paymentId: "pay-2" } as OrderCommand, state).type).toBe("PAYMENT_MISMATCH");
  });

  test("bad customer data or lines are refused, naming the field", () => {
    expect(refusal({ ...place, customer: { ...place.customer, phone: "89001234567" } } as OrderCommand, null).data).toEqual({
      field: "customer.phone",
    });
    expect(refusal({ ...place, customer: { ...place.customer, email: "ann" } } as OrderCommand, null).data).toEqual({
      field: "customer.email",
    });
    expect(refusal({ ...place, lines: [] } as OrderCommand, null).type).toBe("VALIDATION");
    expect(
      refusal({ ...place, lines: [{ ...(place as { lines: object[] }).lines[0], unitPrice: 1.5 }] } as OrderCommand, null).type,
    ).toBe("VALIDATION");
  });

  test("a hold that lapsed before its order was recorded asks for the same request again (503), not for other data", () => {
    const late = refusal({ ...place, at: T0 + 15 * 60_000 } as OrderCommand, null);
    expect({ type: late.type, status: late.status }).toEqual({ type: "HOLD_EXPIRED", status: 503 });
  });

  test("tickets are issued only for the exact amount and currency the provider confirmed, once", () => {
    const state = run([place, attach]);
    expect(refusal(issue(1_599_999), state).type).toBe("PAYMENT_MISMATCH");
    expect(refusal(issue(1_600_000, "EUR"), state).type).toBe("PAYMENT_MISMATCH");
    const paid = run([issue()], state);
    expect(paid).toMatchObject({
      status: "paid",
      tickets: expect.arrayContaining([expect.objectContaining({ id: "t0", status: "active" })]),
    });
    expect(orderDecider.decide(issue(), paid)).toEqual([]);
    expect(refusal({ type: "CancelOrder", actor: buyer, at: T0, id: "o1", reason: "customer" }, paid).type).toBe("ORDER_PAID");
  });

  test("a cancelled order never gets tickets: its payment must be cancelled instead", () => {
    const cancelled = run([place, attach, { type: "CancelOrder", actor: buyer, at: T0 + 1000, id: "o1", reason: "customer" }]);
    expect(cancelled?.status).toBe("cancelled");
    expect(refusal(issue(), cancelled).type).toBe("ORDER_CLOSED");
  });

  test("expiry waits for the deadline and is final: a payment that settles after it gets no tickets", () => {
    const state = run([place, attach]);
    expect(refusal({ type: "ExpireOrder", actor: system, at: T0 + 60_000, id: "o1" }, state).type).toBe("ORDER_NOT_DUE");
    const expired = run([{ type: "ExpireOrder", actor: system, at: T0 + 16 * 60_000, id: "o1" }], state);
    expect(expired?.status).toBe("expired");
    expect(refusal(issue(), expired).type).toBe("ORDER_CLOSED");
  });

  test("only the buyer or the event's organizer may cancel; only the organizer or an admin may refund", () => {
    const state = run([place, attach]);
    expect(run([{ type: "CancelOrder", actor: organizer, at: T0, id: "o1", reason: "customer" }], state)?.status).toBe(
      "cancelled",
    );
    const paid = run([issue()], state);
    // The buyer is a party: told why, since they know the order exists.
    expect(refusal({ type: "RefundTickets", actor: buyer, at: T0, id: "o1", refundId: "r1" }, paid).type).toBe("FORBIDDEN");
  });

  test("someone who is not a party gets the same 404 as for no order at all, whatever the order's state", () => {
    const open = run([place, attach]);
    const cancelled = run([{ type: "CancelOrder", actor: buyer, at: T0 + 1000, id: "o1", reason: "customer" }], open);
    const expired = run([{ type: "ExpireOrder", actor: system, at: T0 + 16 * 60_000, id: "o1" }], open);
    const paid = run([issue()], open);
    const refunded = run([{ type: "RefundTickets", actor: organizer, at: T0, id: "o1", refundId: "r1" }], paid);
    const nothing = refusal({ type: "CancelOrder", actor: stranger, at: T0, id: "o1", reason: "customer" }, null);
    expect({ type: nothing.type, status: nothing.status }).toEqual({ type: "NOT_FOUND", status: 404 });
    const strangers: OrderCommand[] = [
      { type: "CancelOrder", actor: stranger, at: T0 + 2000, id: "o1", reason: "customer" },
      { type: "RefundTickets", actor: stranger, at: T0 + 2000, id: "o1", refundId: "r1" },
      { type: "RefundTickets", actor: stranger, at: T0 + 2000, id: "o1", refundId: "r9" },
      { type: "CancelOrder", actor: buyer2(), at: T0 + 2000, id: "o1", reason: "customer" },
    ];
    for (const state of [open, cancelled, expired, paid, refunded])
      for (const command of strangers) {
        const refused = refusal(command, state);
        expect({ type: refused.type, status: refused.status, message: refused.message, data: refused.data }).toEqual({
          type: nothing.type,
          status: nothing.status,
          message: nothing.message,
          data: nothing.data,
        });
      }
  });

  test("partial then full refunds: amounts add up, a repeated refund changes nothing, refunded tickets stay refunded", () => {
    const paid = run([place, attach, issue()]);
    const partial = run([{ type: "RefundTickets", actor: organizer, at: T0, id: "o1", refundId: "r1", ticketIds: ["t2"] }], paid);
    expect(partial).toMatchObject({ status: "partially_refunded", refundedAmount: 900000 });
    expect(
      orderDecider.decide(
        { type: "RefundTickets", actor: organizer, at: T0, id: "o1", refundId: "r1", ticketIds: ["t2"] },
        partial,
      ),
    ).toEqual([]);
    expect(
      refusal({ type: "RefundTickets", actor: organizer, at: T0, id: "o1", refundId: "r2", ticketIds: ["t2"] }, partial).type,
    ).toBe("TICKET_NOT_ACTIVE");
    expect(
      refusal({ type: "RefundTickets", actor: organizer, at: T0, id: "o1", refundId: "r3", ticketIds: ["nope"] }, partial).type,
    ).toBe("VALIDATION");
    const full = run([{ type: "RefundTickets", actor: system, at: T0, id: "o1", refundId: "r4" }], partial);
    expect(full).toMatchObject({ status: "refunded", refundedAmount: 1_600_000 });
    expect(full!.tickets.every((t) => t.status === "refunded")).toBe(true);
    expect(refusal({ type: "RefundTickets", actor: system, at: T0, id: "o1", refundId: "r5" }, full).type).toBe("NOT_REFUNDABLE");
  });
});
