import { parseErrorBody, parseNotification, parsePayment, parseRefund } from "../../../lib/ports/yookassa/yookassa.parse";
import { YookassaBadResponseError } from "../../../lib/ports/yookassa/yookassa.port";

const payment = {
  id: "2f3c1a9e-000f-5000-9000-1b2c3d4e5f60",
  status: "waiting_for_capture",
  paid: true,
  amount: { value: "1500.00", currency: "RUB" },
  income_amount: { value: "1447.50", currency: "RUB" },
  description: "Order 42",
  recipient: { account_id: "100500", gateway_id: "1" },
  created_at: "2025-03-01T12:00:00.000Z",
  expires_at: "2025-03-08T12:00:00.000Z",
  confirmation: { type: "redirect", confirmation_url: "https://yoomoney.ru/checkout/x", return_url: "https://shop.example/back" },
  metadata: { orderId: "42" },
  refundable: false,
  test: false,
};

describe("parsePayment", () => {
  it("keeps the fields the port uses and drops the rest", () => {
    expect(parsePayment(payment)).toEqual({
      id: payment.id,
      status: "waiting_for_capture",
      paid: true,
      amount: { value: "1500.00", currency: "RUB" },
      description: "Order 42",
      created_at: payment.created_at,
      expires_at: payment.expires_at,
      confirmation: payment.confirmation,
      metadata: { orderId: "42" },
      test: false,
    });
  });

  it("reads a cancelled payment's reason", () => {
    const cancelled = {
      ...payment,
      status: "canceled",
      paid: false,
      cancellation_details: { party: "yoo_money", reason: "expired_on_capture" },
    };
    expect(parsePayment(cancelled).cancellation_details).toEqual({ party: "yoo_money", reason: "expired_on_capture" });
  });

  it("treats absent metadata as empty and leaves out confirmations other than redirect", () => {
    const parsed = parsePayment({ ...payment, metadata: undefined, confirmation: { type: "embedded", confirmation_token: "t" } });
    expect(parsed.metadata).toEqual({});
    expect(parsed.confirmation).toBeUndefined();
  });

  it.each([
    ["an unknown status", { status: "authorized" }, "payment.status"],
    ["a float amount", { amount: { value: 1500, currency: "RUB" } }, "payment.amount.value"],
    ["a negative amount", { amount: { value: "-1.00", currency: "RUB" } }, "payment.amount.value"],
    ["a paid flag as a string", { paid: "true" }, "payment.paid"],
    ["a missing test flag", { test: undefined }, "payment.test"],
    ["a bad timestamp", { created_at: "yesterday" }, "payment.created_at"],
    ["a non-string metadata value", { metadata: { orderId: 42 } }, "payment.metadata.orderId"],
  ])("rejects %s, naming the path", (_label, change, path) => {
    expect(() => parsePayment({ ...payment, ...change })).toThrow(YookassaBadResponseError);
    expect(() => parsePayment({ ...payment, ...change })).toThrow(path);
  });
});

describe("parseRefund", () => {
  it("reads a refund", () => {
    const refund = {
      id: "2f3c1b00-0015-5000-8000-1b2c3d4e5f61",
      payment_id: payment.id,
      status: "succeeded",
      amount: { value: "500.00", currency: "RUB" },
      created_at: "2025-03-02T12:00:00.000Z",
      description: "Returned ticket",
    };
    expect(parseRefund(refund)).toEqual(refund);
  });
});

describe("parseNotification", () => {
  it("reads payment and refund events", () => {
    const paymentEvent = parseNotification({ type: "notification", event: "payment.waiting_for_capture", object: payment });
    expect(paymentEvent).toMatchObject({ event: "payment.waiting_for_capture", object: { id: payment.id } });
  });

  it("rejects events we do not subscribe to and bodies that are not notifications", () => {
    expect(() => parseNotification({ type: "notification", event: "payout.succeeded", object: {} })).toThrow("payout.succeeded");
    expect(() => parseNotification({ type: "error", event: "payment.succeeded", object: payment })).toThrow(
      YookassaBadResponseError,
    );
  });
});

describe("parseErrorBody", () => {
  it("reads YooKassa's error fields, retry_after in milliseconds", () => {
    expect(
      parseErrorBody({
        type: "error",
        id: "e1",
        code: "invalid_request",
        description: "Bad",
        parameter: "amount.value",
        retry_after: 1800,
      }),
    ).toEqual({ id: "e1", code: "invalid_request", description: "Bad", parameter: "amount.value", retryAfterMs: 1800 });
  });

  it("returns nothing for an answer from something else (an HTML error page)", () => {
    expect(parseErrorBody(undefined)).toEqual({});
    expect(parseErrorBody({ code: 500, retry_after: "soon" })).toEqual({});
  });
});
