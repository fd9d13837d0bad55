import { isYookassaId } from "../../../lib/ports/yookassa/yookassa.port";
import { orderDecider, paymentAction, type ProviderPayment } from "../../../services/orders/orders.decider";
import type { Order, OrderCommand, OrderState } from "../../../services/orders/orders.types";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const system = { sub: "system", roles: ["admin" as const] };
const PAY = "23d93cac-000f-5000-8000-126628f15141";

const placed: OrderCommand = {
  type: "PlaceOrder",
  actor: { sub: "ann", roles: ["customer"] },
  at: T0,
  id: "o1",
  number: "TL-1",
  eventId: "e1",
  organizerId: "org-1",
  customer: { email: "ann@example.com", phone: "+79001234567" },
  lines: [{ categoryId: "floor", categoryName: "Floor", quantity: 1, unitPrice: 150000 }],
  currency: "RUB",
  expiresAt: T0 + 60_000,
};

function run(commands: OrderCommand[], state: OrderState = null): Order {
  for (const command of commands)
    for (const event of orderDecider.decide(command, state)) state = orderDecider.evolve(state, event);
  return state!;
}

const open = run([placed, { type: "AttachPayment", actor: system, at: T0, id: "o1", paymentId: PAY, confirmationUrl: "u" }]);
const expired = run([{ type: "ExpireOrder", actor: system, at: T0 + 61_000, id: "o1" }], open);
const cancelled = run([{ type: "CancelOrder", actor: system, at: T0 + 1, id: "o1", reason: "customer" }], open);
const paid = run(
  [
    {
      type: "IssueTickets",
      actor: system,
      at: T0 + 2,
      id: "o1",
      paymentId: PAY,
      paidAmount: 150000,
      paidCurrency: "RUB",
      tickets: [
        {
          id: "t1",
          barcode: "B1",
          series: "TL",
          number: "1",
          categoryId: "floor",
          categoryName: "Floor",
          price: 150000,
          currency: "RUB",
        },
      ],
    },
  ],
  open,
);
const provider = (status: ProviderPayment["status"], amount = 150000): ProviderPayment => ({
  id: PAY,
  status,
  amount,
  currency: "RUB",
});

describe("what to do about a payment, from the provider's state", () => {
  test("an authorisation is sold while the order awaits payment, captured once issued, cancelled otherwise", () => {
    expect(paymentAction(open, provider("waiting_for_capture"))).toEqual({ action: "sell" });
    // Expired is final: its stock went back, so an authorisation that comes after it is cancelled.
    expect(paymentAction(expired, provider("waiting_for_capture")).action).toBe("cancel");
    expect(paymentAction(paid, provider("waiting_for_capture"))).toEqual({ action: "capture" });
    expect(paymentAction(cancelled, provider("waiting_for_capture")).action).toBe("cancel");
    expect(paymentAction(open, provider("waiting_for_capture", 149999)).action).toBe("cancel");
    expect(paymentAction(open, { ...provider("waiting_for_capture"), id: "13d93cac-000f-5000-8000-126628f15141" }).action).toBe(
      "cancel",
    );
  });

  test("a closed order never keeps a payable payment; a payment the provider dropped ends an unpaid order", () => {
    expect(paymentAction(open, provider("pending"))).toEqual({ action: "none" });
    expect(paymentAction(expired, provider("pending")).action).toBe("cancel");
    expect(paymentAction(cancelled, provider("pending")).action).toBe("cancel");
    expect(paymentAction(open, provider("canceled"))).toEqual({ action: "close", outcome: "canceled" });
    expect(paymentAction(expired, provider("unknown"))).toEqual({ action: "close", outcome: "unknown" });
    expect(paymentAction(open, provider("unknown"))).toEqual({ action: "none" });
    expect(paymentAction(paid, provider("canceled")).action).toBe("alarm");
    expect(paymentAction(open, provider("succeeded")).action).toBe("alarm");
    expect(paymentAction(paid, provider("succeeded"))).toEqual({ action: "none" });
  });

  test("closing a payment cancels an unpaid order with it, once; a closed payment needs nothing more", () => {
    const close: OrderCommand = {
      type: "ClosePayment",
      actor: system,
      at: T0 + 3,
      id: "o1",
      paymentId: PAY,
      outcome: "canceled",
    };
    const closed = run([close], open);
    expect(closed).toMatchObject({ status: "cancelled", payment: { id: PAY, closed: "canceled" } });
    expect(orderDecider.decide(close, closed)).toEqual([]);
    expect(run([close], expired)).toMatchObject({ status: "expired", payment: { closed: "canceled" } });
    expect(paymentAction(closed, provider("canceled"))).toEqual({ action: "none" });
    expect(paymentAction(closed, provider("pending"))).toEqual({ action: "none" });
    expect(() => orderDecider.decide(close, paid)).toThrow(/never captured/);
  });

  test("a refund's state at the provider is recorded once per change and never goes back from a final state", () => {
    const refunded = run([{ type: "RefundTickets", actor: system, at: T0 + 3, id: "o1", refundId: "r1" }], paid);
    const record = (status: "pending" | "succeeded" | "canceled", providerRefundId = "p1"): OrderCommand => ({
      type: "RecordRefund",
      actor: system,
      at: T0 + 4,
      id: "o1",
      refundId: "r1",
      providerRefundId,
      status,
    });
    const pending = run([record("pending")], refunded);
    expect(pending.refunds).toEqual([{ refundId: "r1", providerRefundId: "p1", status: "pending" }]);
    expect(orderDecider.decide(record("pending"), pending)).toEqual([]);
    const done = run([record("succeeded")], pending);
    expect(done.refunds).toEqual([{ refundId: "r1", providerRefundId: "p1", status: "succeeded" }]);
    expect(orderDecider.decide(record("canceled"), done)).toEqual([]);
    expect(() => orderDecider.decide(record("succeeded", "p2"), done)).toThrow(/is p1 at the provider/);
    expect(() => orderDecider.decide({ ...record("pending"), refundId: "r9" } as OrderCommand, done)).toThrow(/no refund r9/);
  });

  test("YooKassa ids are 36 lower-case hexadecimal characters in UUID groups", () => {
    expect(isYookassaId(PAY)).toBe(true);
    for (const bad of ["not a valid id!", "pay-1", PAY.toUpperCase(), `${PAY}0`, "../payments", ""])
      expect(isYookassaId(bad)).toBe(false);
  });
});
