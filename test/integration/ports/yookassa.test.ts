/**
 * Contract test: the real YooKassa client against the simulator over real sockets, with the
 * buyer's side driven through the HTML checkout page and webhooks caught by a local receiver.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { YookassaClient, type YookassaClientOptions } from "../../../lib/ports/yookassa/yookassa.client";
import { parseNotification } from "../../../lib/ports/yookassa/yookassa.parse";
import {
  isYookassaId,
  YookassaError,
  YookassaInvalidRequestError,
  type CreatePaymentRequest,
  type Notification,
  type Payment,
  type YookassaErrorCode,
} from "../../../lib/ports/yookassa/yookassa.port";
import { startYookassaSimulator, type YookassaSimulator } from "../../../lib/ports/yookassa/yookassa.simulator";
import { rejection } from "./rejection";

const SHOP_ID = "506751";
const SECRET_KEY = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0";
const RETURN_URL = "https://tickets.example/orders/42/paid";

/** Answers webhooks and keeps what arrived; `failNext` makes it answer 500 that many times first. */
class WebhookReceiver {
  readonly received: Notification[] = [];
  failNext = 0;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (this.failNext > 0) {
        this.failNext -= 1;
        res.writeHead(500).end();
        return;
      }
      this.received.push(parseNotification(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      res.writeHead(200).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/yookassa`;
  }

  for(objectId: string): Notification[] {
    return this.received.filter((notification) => notification.object.id === objectId);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let receiver: WebhookReceiver;
let webhookUrl: string;
let sim: YookassaSimulator;

const clientFor = (target: YookassaSimulator, options: Partial<YookassaClientOptions> = {}) =>
  new YookassaClient({
    shopId: SHOP_ID,
    secretKey: SECRET_KEY,
    baseUrl: target.apiUrl,
    timeoutMs: 1000,
    retries: 2,
    backoffMs: 5,
    ...options,
  });

const order = (overrides: Partial<CreatePaymentRequest> = {}): CreatePaymentRequest => ({
  amountMinor: 150000,
  currency: "RUB",
  description: "Order 42: 2 tickets",
  returnUrl: RETURN_URL,
  metadata: { orderId: "42" },
  idempotenceKey: randomUUID(),
  ...overrides,
});

const rejected = (promise: Promise<unknown>, code: YookassaErrorCode) => rejection(promise, YookassaError, code, SECRET_KEY);
const invalidRequest = (promise: Promise<unknown>) =>
  rejection(promise, YookassaInvalidRequestError, "YOOKASSA_INVALID_REQUEST", SECRET_KEY);

async function eventually<T>(read: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const webhook = (objectId: string, event: Notification["event"]) =>
  eventually(() => receiver.for(objectId).find((notification) => notification.event === event), `${event} for ${objectId}`);

/** A payment the buyer has paid for, waiting for us to capture it. */
async function paidPayment(client = clientFor(sim)): Promise<Payment> {
  const payment = await client.createPayment(order());
  sim.pay(payment.id);
  await webhook(payment.id, "payment.waiting_for_capture");
  return payment;
}

beforeAll(async () => {
  receiver = new WebhookReceiver();
  webhookUrl = await receiver.start();
  sim = await startYookassaSimulator({ shopId: SHOP_ID, secretKey: SECRET_KEY, webhookUrl, webhookBackoffMs: 20 });
});

afterEach(async () => {
  sim.setFault(null);
  await sim.flushWebhooks();
  receiver.failNext = 0;
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

describe("two-stage payment", () => {
  it("creates a pending payment with a confirmation URL on the simulator's page", async () => {
    const payment = await clientFor(sim).createPayment(order());
    expect(payment).toMatchObject({
      status: "pending",
      paid: false,
      amount: { value: "1500.00", currency: "RUB" },
      description: "Order 42: 2 tickets",
      metadata: { orderId: "42" },
      test: true,
      confirmation: { type: "redirect", confirmation_url: `${sim.url}/checkout/${payment.id}`, return_url: RETURN_URL },
    });
  });

  it("serves a self-contained checkout page whose Pay form authorises the payment and returns the buyer", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    const page = await fetch(payment.confirmation?.confirmation_url ?? "missing");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain("1500.00 RUB");
    expect(html).not.toMatch(/<script|<link|<img|<iframe/i);
    const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>[\s\S]*?<button[^>]*>([^<]+)<\/button>/g)];
    expect(forms.map(([, action, label]) => [action, label])).toEqual([
      [`${sim.url}/checkout/${payment.id}/pay`, "Pay"],
      [`${sim.url}/checkout/${payment.id}/decline`, "Decline"],
    ]);

    const submitted = await fetch(forms[0][1], { method: "POST", redirect: "manual" });
    expect(submitted.status).toBe(303);
    expect(submitted.headers.get("location")).toBe(RETURN_URL);

    const notification = await webhook(payment.id, "payment.waiting_for_capture");
    expect(notification.object).toMatchObject({ status: "waiting_for_capture", paid: true, metadata: { orderId: "42" } });
    const fetched = await client.getPayment(payment.id);
    expect(fetched).toMatchObject({ status: "waiting_for_capture", paid: true });
    // Shaped as YooKassa's own ids, which the webhook checks before recording anything.
    expect(isYookassaId(payment.id)).toBe(true);
    expect(Date.parse(fetched.expires_at ?? "")).toBeGreaterThan(Date.now());

    const again = await fetch(forms[0][1], { method: "POST", redirect: "manual" });
    expect(again.status).toBe(409);
  });

  it("declines through the page with the bank's reason", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    const declined = await fetch(`${sim.url}/checkout/${payment.id}/decline`, {
      method: "POST",
      body: new URLSearchParams({ reason: "insufficient_funds" }),
      redirect: "manual",
    });
    expect(declined.status).toBe(303);
    const notification = await webhook(payment.id, "payment.canceled");
    expect(notification.object).toMatchObject({
      status: "canceled",
      cancellation_details: { party: "payment_network", reason: "insufficient_funds" },
    });
    expect((await client.getPayment(payment.id)).status).toBe("canceled");
  });

  it("captures a paid payment: succeeded, with a webhook", async () => {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    const captured = await client.capturePayment(payment.id, { idempotenceKey: randomUUID() });
    expect(captured).toMatchObject({ status: "succeeded", paid: true, amount: { value: "1500.00" } });
    expect(captured.captured_at).toBeDefined();
    expect((await webhook(payment.id, "payment.succeeded")).object).toMatchObject({ status: "succeeded" });
  });

  it("captures part of the amount and releases the rest", async () => {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    const captured = await client.capturePayment(payment.id, {
      idempotenceKey: randomUUID(),
      amountMinor: 100000,
      currency: "RUB",
    });
    expect(captured.amount).toEqual({ value: "1000.00", currency: "RUB" });
  });

  it("refuses to capture a payment the buyer has not paid", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    const error = await invalidRequest(client.capturePayment(payment.id, { idempotenceKey: randomUUID() }));
    expect(error).toMatchObject({ status: 400, apiCode: "invalid_request", retryable: false });
  });

  it("cancels a paid payment to release the hold, with a webhook", async () => {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    const cancelled = await client.cancelPayment(payment.id, { idempotenceKey: randomUUID() });
    expect(cancelled).toMatchObject({
      status: "canceled",
      cancellation_details: { party: "merchant", reason: "canceled_by_merchant" },
    });
    await webhook(payment.id, "payment.canceled");
    await invalidRequest(client.capturePayment(payment.id, { idempotenceKey: randomUUID() }));
  });

  it("cancels a payment still waiting for the buyer", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    await expect(client.cancelPayment(payment.id, { idempotenceKey: randomUUID() })).resolves.toMatchObject({
      status: "canceled",
    });
    expect(() => sim.pay(payment.id)).toThrow("not pending");
  });

  it("reports an unknown payment as YOOKASSA_NOT_FOUND", async () => {
    const error = await rejected(clientFor(sim).getPayment("2f3c1a9e-000f-5000-9000-000000000000"), "YOOKASSA_NOT_FOUND");
    expect(error.status).toBe(404);
  });
});

describe("refunds", () => {
  async function capturedPayment(): Promise<Payment> {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    return client.capturePayment(payment.id, { idempotenceKey: randomUUID() });
  }

  it("refunds in parts up to the captured amount and refuses more, naming the parameter", async () => {
    const client = clientFor(sim);
    const payment = await capturedPayment();
    const first = await client.createRefund({
      paymentId: payment.id,
      amountMinor: 50000,
      currency: "RUB",
      description: "One ticket returned",
      idempotenceKey: randomUUID(),
    });
    expect(first).toMatchObject({ payment_id: payment.id, status: "succeeded", amount: { value: "500.00", currency: "RUB" } });
    expect(await client.getRefund(first.id)).toEqual(first);
    expect((await webhook(first.id, "refund.succeeded")).object).toMatchObject({ payment_id: payment.id });
    expect(isYookassaId(first.id)).toBe(true);
    expect((await client.getPayment(payment.id)).refunded_amount).toEqual({ value: "500.00", currency: "RUB" });

    const tooMuch = await invalidRequest(
      client.createRefund({ paymentId: payment.id, amountMinor: 100001, currency: "RUB", idempotenceKey: randomUUID() }),
    );
    expect(tooMuch).toMatchObject({ status: 400, apiCode: "invalid_request", parameter: "amount.value" });

    await client.createRefund({ paymentId: payment.id, amountMinor: 100000, currency: "RUB", idempotenceKey: randomUUID() });
    expect((await client.getPayment(payment.id)).refunded_amount).toEqual({ value: "1500.00", currency: "RUB" });
  });

  it("refunds the whole payment at once", async () => {
    const client = clientFor(sim);
    const payment = await capturedPayment();
    const refund = await client.createRefund({
      paymentId: payment.id,
      amountMinor: 150000,
      currency: "RUB",
      idempotenceKey: randomUUID(),
    });
    expect(refund.amount.value).toBe("1500.00");
    await invalidRequest(
      client.createRefund({ paymentId: payment.id, amountMinor: 1, currency: "RUB", idempotenceKey: randomUUID() }),
    );
  });

  it("refuses to refund a payment that was not captured", async () => {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    const error = await invalidRequest(
      client.createRefund({ paymentId: payment.id, amountMinor: 100, currency: "RUB", idempotenceKey: randomUUID() }),
    );
    expect(error.parameter).toBe("payment_id");
  });
});

describe("idempotence", () => {
  it("answers the same key and body with the first payment, creating one", async () => {
    const client = clientFor(sim);
    const request = order();
    const before = sim.payments.size;
    const first = await client.createPayment(request);
    const second = await client.createPayment(request);
    expect(second.id).toBe(first.id);
    expect(sim.payments.size - before).toBe(1);
  });

  it("replays the first answer even after the payment moved on", async () => {
    const client = clientFor(sim);
    const request = order();
    const first = await client.createPayment(request);
    sim.pay(first.id);
    await expect(client.createPayment(request)).resolves.toMatchObject({ id: first.id, status: "pending" });
  });

  it("refuses the same key with a different body", async () => {
    const client = clientFor(sim);
    const request = order();
    await client.createPayment(request);
    const error = await invalidRequest(client.createPayment({ ...request, amountMinor: 150001 }));
    expect(error.parameter).toBe("Idempotence-Key");
  });

  it("repeats a 500 with the same key and body, and one payment comes of it", async () => {
    const request = order();
    const before = sim.payments.size;
    const seen = sim.requests.length;
    sim.setFault({ status: 500, times: 2, path: "/v3/payments" });
    const payment = await clientFor(sim).createPayment(request);
    const attempts = sim.requests.slice(seen);
    expect(attempts.map((attempt) => [attempt.method, attempt.path, attempt.idempotenceKey, attempt.status])).toEqual([
      ["POST", "/v3/payments", request.idempotenceKey, 500],
      ["POST", "/v3/payments", request.idempotenceKey, 500],
      ["POST", "/v3/payments", request.idempotenceKey, 200],
    ]);
    expect(sim.payments.size - before).toBe(1);
    expect(sim.payments.get(payment.id)?.metadata).toEqual({ orderId: "42" });
  });

  it("gets the first result back when the payment was made but the answer was lost", async () => {
    const request = order();
    const before = sim.payments.size;
    sim.setFault({ status: 500, times: 1, path: "/v3/payments", afterProcessing: true });
    const payment = await clientFor(sim).createPayment(request);
    expect(sim.payments.size - before).toBe(1);
    expect(sim.payments.has(payment.id)).toBe(true);
  });

  it("survives a timed-out POST that the service still carries out later", async () => {
    const request = order();
    const before = sim.payments.size;
    sim.setFault({ delayMs: 400, times: 1, path: "/v3/payments" });
    const payment = await clientFor(sim, { timeoutMs: 150 }).createPayment(request);
    // The slow first attempt lands after the retry and must be answered from the stored result.
    const sameKey = () => sim.requests.filter((r) => r.idempotenceKey === request.idempotenceKey);
    await eventually(() => (sameKey().length === 2 ? true : undefined), "the delayed attempt");
    expect(sim.payments.size - before).toBe(1);
    expect(sim.payments.has(payment.id)).toBe(true);
  });
});

describe("failures", () => {
  it("gives up with YOOKASSA_UNAVAILABLE when 500 persists, after the configured attempts", async () => {
    const seen = sim.requests.length;
    sim.setFault({ status: 500, path: "/v3/payments" });
    const error = await rejected(clientFor(sim, { retries: 2 }).createPayment(order()), "YOOKASSA_UNAVAILABLE");
    expect(error).toMatchObject({ status: 500, retryable: true });
    expect(error.message).toContain("result is unknown");
    expect(sim.requests.length - seen).toBe(3);
  });

  it("times out with YOOKASSA_UNAVAILABLE", async () => {
    const payment = await clientFor(sim).createPayment(order());
    sim.setFault({ delayMs: 3000, path: `/v3/payments/${payment.id}` });
    const started = Date.now();
    const error = await rejected(clientFor(sim, { timeoutMs: 150, retries: 1 }).getPayment(payment.id), "YOOKASSA_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.message).toContain("150 ms");
  });

  it("asks again with the same key while YooKassa answers 202 (still processing)", async () => {
    const request = order();
    const seen = sim.requests.length;
    sim.setFault({ status: 202, times: 1, retryAfterMs: 20, path: "/v3/payments" });
    await expect(clientFor(sim).createPayment(request)).resolves.toMatchObject({ status: "pending" });
    expect(sim.requests.slice(seen).map((r) => [r.idempotenceKey, r.status])).toEqual([
      [request.idempotenceKey, 202],
      [request.idempotenceKey, 200],
    ]);
  });

  it("waits out a short 429 and succeeds", async () => {
    const seen = sim.requests.length;
    sim.setFault({ status: 429, times: 1, retryAfterMs: 50 });
    await expect(clientFor(sim).createPayment(order())).resolves.toMatchObject({ status: "pending" });
    expect(sim.requests.slice(seen).map((r) => r.status)).toEqual([429, 200]);
  });

  it("reports a long 429 at once as YOOKASSA_RATE_LIMITED with retry_after", async () => {
    const seen = sim.requests.length;
    sim.setFault({ status: 429, retryAfterMs: 60_000 });
    const error = await rejected(clientFor(sim).createPayment(order()), "YOOKASSA_RATE_LIMITED");
    expect(error).toMatchObject({ retryAfterMs: 60_000, retryable: true, apiCode: "too_many_requests" });
    expect(sim.requests.length - seen).toBe(1);
  });

  it("reports wrong credentials as YOOKASSA_UNAUTHORIZED, once, without the secret key", async () => {
    const seen = sim.requests.length;
    const wrongSecret = "test_wrong-secret-key-1234567890";
    const error = await rejection(
      clientFor(sim, { secretKey: wrongSecret }).createPayment(order()),
      YookassaError,
      "YOOKASSA_UNAUTHORIZED",
      wrongSecret,
    );
    expect(error).toMatchObject({ status: 401, apiCode: "invalid_credentials" });
    expect(sim.requests.length - seen).toBe(1);
    expect(JSON.stringify(error)).not.toContain(wrongSecret);
  });

  it("scrubs credentials that a misbehaving proxy echoes back", async () => {
    const token = Buffer.from(`${SHOP_ID}:${SECRET_KEY}`).toString("base64");
    const echo = createServer((req, res) => {
      const credentials = Buffer.from((req.headers.authorization ?? "").slice("Basic ".length), "base64").toString("utf8");
      const description = `rejected ${credentials} (${req.headers.authorization ?? ""})`;
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", id: "e1", code: "invalid_request", description, parameter: credentials }));
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v3/`;
      const client = new YookassaClient({ shopId: SHOP_ID, secretKey: SECRET_KEY, baseUrl });
      const error = await invalidRequest(client.getPayment("2f3c1a9e-000f-5000-9000-000000000000"));
      expect(error.message).toContain(`rejected ${SHOP_ID}:***`);
      expect(inspect(error, { depth: 10 })).not.toContain(token);
      expect(error.parameter).not.toContain(SECRET_KEY);
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it("keeps the secret key out of the client's own inspection", async () => {
    expect(inspect(clientFor(sim), { depth: 5 })).not.toContain(SECRET_KEY);
  });

  it("reports an unreachable service as YOOKASSA_UNAVAILABLE", async () => {
    const gone = await startYookassaSimulator({ shopId: SHOP_ID, secretKey: SECRET_KEY });
    await gone.close();
    const error = await rejected(
      clientFor(gone, { retries: 1 }).getPayment("2f3c1a9e-000f-5000-9000-000000000000"),
      "YOOKASSA_UNAVAILABLE",
    );
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it("refuses bad input before sending anything", async () => {
    const client = clientFor(sim);
    const seen = sim.requests.length;
    const cases: Array<[Promise<unknown>, string]> = [
      [client.createPayment(order({ amountMinor: 0 })), "amount.value"],
      [client.createPayment(order({ amountMinor: 10.5 })), "amount.value"],
      [client.createPayment(order({ currency: "rub" })), "amount.currency"],
      [client.createPayment(order({ description: "x".repeat(129) })), "description"],
      [client.createPayment(order({ returnUrl: "javascript:alert(1)" })), "confirmation.return_url"],
      [client.createPayment(order({ idempotenceKey: "" })), "Idempotence-Key"],
      [client.getPayment("../refunds/x"), "payment_id"],
    ];
    for (const [promise, parameter] of cases) {
      expect((await invalidRequest(promise)).parameter).toBe(parameter);
    }
    expect(sim.requests.length).toBe(seen);
  });
});

describe("the simulator's API", () => {
  it("answers a request without credentials with a JSON 401", async () => {
    const response = await fetch(`${sim.apiUrl}payments/whatever`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: "error", code: "invalid_credentials" });
  });

  it("requires an Idempotence-Key on POST", async () => {
    const response = await fetch(`${sim.apiUrl}payments`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${SHOP_ID}:${SECRET_KEY}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ amount: { value: "1.00", currency: "RUB" } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_request", parameter: "Idempotence-Key" });
  });

  it("leaves a payment pending when the bank never answers", async () => {
    const payment = await clientFor(sim).createPayment(order());
    sim.setFault({ neverComplete: true });
    expect(sim.pay(payment.id).status).toBe("pending");
    expect((await clientFor(sim).getPayment(payment.id)).status).toBe("pending");
  });
});

describe("capture window", () => {
  it("cancels a paid payment not captured in time, as expired_on_capture, with a webhook", async () => {
    const shortWindow = await startYookassaSimulator({
      shopId: SHOP_ID,
      secretKey: SECRET_KEY,
      webhookUrl,
      captureWindowMs: 150,
    });
    try {
      const client = clientFor(shortWindow);
      const payment = await client.createPayment(order());
      const paid = shortWindow.pay(payment.id);
      expect(Date.parse(paid.expires_at ?? "") - Date.now()).toBeLessThanOrEqual(150);
      const notification = await webhook(payment.id, "payment.canceled");
      expect(notification.object).toMatchObject({
        status: "canceled",
        cancellation_details: { party: "yoo_money", reason: "expired_on_capture" },
      });
      await invalidRequest(client.capturePayment(payment.id, { idempotenceKey: randomUUID() }));
    } finally {
      await shortWindow.close();
    }
  });
});

describe("webhook delivery", () => {
  it("retries a webhook the receiver did not accept", async () => {
    const payment = await clientFor(sim).createPayment(order());
    receiver.failNext = 1;
    sim.pay(payment.id);
    await webhook(payment.id, "payment.waiting_for_capture");
    // The receiver has it; the simulator records the attempt when the response comes back.
    await sim.flushWebhooks();
    const attempts = sim.deliveries.filter((delivery) => delivery.objectId === payment.id);
    expect(attempts.map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
  });

  it("sends every webhook twice in duplicate mode", async () => {
    const payment = await clientFor(sim).createPayment(order());
    sim.setFault({ webhook: "duplicate" });
    sim.pay(payment.id);
    await sim.flushWebhooks();
    const received = receiver.for(payment.id);
    expect(received.map((notification) => notification.event)).toEqual([
      "payment.waiting_for_capture",
      "payment.waiting_for_capture",
    ]);
    expect(received[0]).toEqual(received[1]);
  });

  it("delivers held webhooks newest first in reorder mode", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    sim.setFault({ webhook: "reorder" });
    sim.pay(payment.id);
    await client.capturePayment(payment.id, { idempotenceKey: randomUUID() });
    expect(receiver.for(payment.id)).toEqual([]);
    await sim.flushWebhooks();
    expect(receiver.for(payment.id).map((notification) => notification.event)).toEqual([
      "payment.succeeded",
      "payment.waiting_for_capture",
    ]);
  });

  it("releases held webhooks on its own after a while", async () => {
    const payment = await clientFor(sim).createPayment(order());
    sim.setFault({ webhook: "reorder" });
    sim.pay(payment.id);
    await webhook(payment.id, "payment.waiting_for_capture");
  });

  it("drops webhooks in drop mode but records that it would have sent them", async () => {
    const client = clientFor(sim);
    const payment = await client.createPayment(order());
    sim.setFault({ webhook: "drop" });
    sim.pay(payment.id);
    await sim.flushWebhooks();
    expect(receiver.for(payment.id)).toEqual([]);
    expect(sim.deliveries.filter((delivery) => delivery.objectId === payment.id)).toEqual([
      expect.objectContaining({ event: "payment.waiting_for_capture", dropped: true }),
    ]);
    // Without the webhook, reading the payment is how the shop learns it was paid.
    expect((await client.getPayment(payment.id)).status).toBe("waiting_for_capture");
  });

  it("announces an authorisation before the buyer paid in early mode, then the genuine one", async () => {
    const client = clientFor(sim);
    sim.setFault({ webhook: "early" });
    const payment = await client.createPayment(order());
    const early = await webhook(payment.id, "payment.waiting_for_capture");
    expect(early.object).toMatchObject({ status: "waiting_for_capture", paid: true });
    // The provider itself still says pending.
    expect((await client.getPayment(payment.id)).status).toBe("pending");
    sim.pay(payment.id);
    await sim.flushWebhooks();
    expect(receiver.for(payment.id).map((n) => n.event)).toEqual(["payment.waiting_for_capture", "payment.waiting_for_capture"]);
    expect((await client.getPayment(payment.id)).status).toBe("waiting_for_capture");
  });

  it("sends webhooks late in delay mode, and a flush waits for them", async () => {
    const payment = await clientFor(sim).createPayment(order());
    sim.setFault({ webhook: "delay", delayMs: 100 });
    sim.pay(payment.id);
    await sim.flushWebhooks();
    expect(receiver.for(payment.id).map((n) => n.event)).toEqual(["payment.waiting_for_capture"]);
  });

  it("keeps refunds pending for a while when asked, then tells they succeeded", async () => {
    const client = clientFor(sim);
    const payment = await paidPayment(client);
    await client.capturePayment(payment.id, { idempotenceKey: randomUUID() });
    sim.setFault({ refundsPendingMs: 50 });
    const refund = await client.createRefund({
      paymentId: payment.id,
      amountMinor: 10000,
      currency: "RUB",
      idempotenceKey: randomUUID(),
    });
    expect(refund.status).toBe("pending");
    expect((await webhook(refund.id, "refund.succeeded")).object).toMatchObject({ id: refund.id, status: "succeeded" });
    expect((await client.getRefund(refund.id)).status).toBe("succeeded");
  });
});
