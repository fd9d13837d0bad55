import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import type { Payment } from "../../lib/ports/yookassa/yookassa.port";
import type { WebhookMode } from "../../lib/ports/yookassa/yookassa.simulator";
import { apiClient, eventually } from "../support/api-client";
import { openGaSale } from "../support/ga-sale";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface OrderReply {
  id: string;
  status: string;
  expiresAt: number;
  payment: { id: string; closed?: string } | null;
  refunds?: Array<{ refundId: string; providerRefundId: string; status: string }>;
  tickets: Array<{ id: string; status: string }>;
}

/** What a buyer does once the order is placed. */
type Buyer = "pays" | "declines" | "walks away" | "pays at the deadline" | "cancels, then pays";
const BUYERS: Buyer[] = ["pays", "pays", "declines", "walks away", "pays at the deadline", "cancels, then pays"];
const FAULTS: Array<{ webhook: WebhookMode; delayMs?: number }> = [
  { webhook: "drop" },
  { webhook: "early" },
  { webhook: "duplicate" },
  { webhook: "reorder" },
  { webhook: "delay", delayMs: 2500 },
];
const HOLD_SECONDS = 4;

/**
 * The money path under every webhook fault the simulator has, over real HTTP in the quick
 * start: whatever the notifications do, every authorisation ends captured with tickets issued
 * or cancelled, and no order is left waiting for a payment.
 */
describe("payments under notification faults", () => {
  const env = quickStartEnv("payment-faults", {
    HOLD_TTL_SECONDS: String(HOLD_SECONDS),
    PAYMENT_RECONCILE_AFTER_MS: "1500",
  });
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let olga: string;
  const placed: Array<{ id: string; paymentId: string; token: string; fault: string; buyer: Buyer }> = [];
  const customer = { email: "buyer@example.com", phone: "+79001234567" };
  const sim = () => app.runtime.paymentSimulator!;

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    olga = await openGaSale(api, issuer, 200);
  });
  afterAll(async () => app?.stop());

  /** The buyer's move on the provider's page; a payment the order's closing already cancelled cannot be paid. */
  function payIfStillPossible(paymentId: string): void {
    try {
      sim().pay(paymentId);
    } catch (err) {
      if (!/not pending/.test((err as Error).message)) throw err;
    }
  }

  async function act(order: { id: string; paymentId: string; token: string }, buyer: Buyer): Promise<void> {
    switch (buyer) {
      case "pays":
        sim().pay(order.paymentId);
        return;
      case "declines":
        sim().decline(order.paymentId);
        return;
      case "walks away":
        return;
      case "pays at the deadline":
        await new Promise((resolve) => setTimeout(resolve, HOLD_SECONDS * 1000 - 200));
        return payIfStillPossible(order.paymentId);
      case "cancels, then pays":
        expect((await api("POST", `/orders/${order.id}/cancel`, { token: order.token })).status).toBe(200);
        return payIfStillPossible(order.paymentId);
    }
  }

  test.each(FAULTS)("webhooks $webhook: every order ends paid or closed", async (fault) => {
    sim().setFault(fault);
    try {
      const phase = await Promise.all(
        BUYERS.map(async (buyer, i) => {
          const token = await issuer.mint({ sub: `${fault.webhook}-${i}`, roles: ["customer"] });
          const reply = await eventually(
            () =>
              api<OrderReply>("POST", "/orders", {
                token,
                body: { eventId: "show", customer, items: [{ categoryId: "floor", quantity: 2 }] },
              }),
            (r) => r.status === 201,
          );
          const order = { id: reply.body.id, paymentId: reply.body.payment!.id, token, fault: fault.webhook, buyer };
          placed.push(order);
          await act(order, buyer);
          return order;
        }),
      );
      // Under the fault itself: no order is left waiting for its payment.
      for (const order of phase)
        await eventually(
          () => api<OrderReply>("GET", `/orders/${order.id}`, { token: order.token }),
          (r) => r.body.status !== "awaiting_payment",
          30_000,
        );
    } finally {
      sim().setFault(null);
    }
  });

  test("at rest: every authorisation captured with its tickets issued, or cancelled; nothing waits", async () => {
    expect(placed).toHaveLength(FAULTS.length * BUYERS.length);
    await sim().flushWebhooks();
    const state = async () => {
      const payments = sim().payments;
      return Promise.all(
        placed.map(async (o) => {
          const order = (await api<OrderReply>("GET", `/orders/${o.id}`, { token: o.token })).body;
          const payment = payments.get(o.paymentId) as Payment;
          return { fault: o.fault, buyer: o.buyer, order: order.status, tickets: order.tickets.length, payment: payment.status };
        }),
      );
    };
    // Settled means: captured with two tickets issued, or cancelled with none.
    const settled = (s: Awaited<ReturnType<typeof state>>[number]) =>
      (s.payment === "succeeded" && s.order === "paid" && s.tickets === 2) ||
      (s.payment === "canceled" && ["cancelled", "expired"].includes(s.order) && s.tickets === 0);
    const end = await eventually(state, (all) => all.every(settled), 60_000);
    expect(end.filter((s) => !settled(s))).toEqual([]);
    // Every fault saw both outcomes: the paying buyers got their tickets, the others were released.
    for (const { webhook } of FAULTS) {
      const ofFault = end.filter((s) => s.fault === webhook);
      expect(ofFault.filter((s) => s.buyer === "pays").map((s) => s.order)).toEqual(["paid", "paid"]);
      expect(ofFault.filter((s) => s.buyer === "declines" || s.buyer === "walks away").map((s) => s.payment)).toEqual([
        "canceled",
        "canceled",
      ]);
    }
    // The stock agrees: two tickets per paid order are sold, nothing else is held.
    const paidOrders = end.filter((s) => s.order === "paid").length;
    await eventually(
      () => api<{ availability: Record<string, { available: number }> }>("GET", "/events/show"),
      (r) => r.body.availability?.floor?.available === 200 - 2 * paidOrders,
    );
  });

  test("refund notifications are looked up as refunds and matched to the refund we recorded", async () => {
    const paidOrder = async (sub: string) => {
      const token = await issuer.mint({ sub, roles: ["customer"] });
      const placed = await api<OrderReply>("POST", "/orders", {
        token,
        body: { eventId: "show", customer, items: [{ categoryId: "floor", quantity: 1 }] },
      });
      expect(placed.status).toBe(201);
      sim().pay(placed.body.payment!.id);
      await eventually(
        () => api<OrderReply>("GET", `/orders/${placed.body.id}`, { token }),
        (r) => r.body.status === "paid",
      );
      return { id: placed.body.id, paymentId: placed.body.payment!.id, token };
    };
    const refunded = async (order: { id: string; token: string }) => {
      expect((await api("POST", `/orders/${order.id}/refunds`, { token: olga, body: {} })).status).toBe(202);
      const done = await eventually(
        () => api<OrderReply>("GET", `/orders/${order.id}`, { token: order.token }),
        (r) => r.body.refunds?.[0]?.status === "succeeded",
      );
      return done.body.refunds![0].providerRefundId;
    };
    // The provider answers "pending" and tells later: the notification brings the news.
    sim().setFault({ refundsPendingMs: 500 });
    const told = await paidOrder("refund-told");
    const toldRefund = await refunded(told);
    expect(sim().requests.filter((r) => r.method === "GET" && r.path === `/v3/refunds/${toldRefund}`).length).toBeGreaterThan(0);
    expect(sim().requests.some((r) => r.path === `/v3/payments/${toldRefund}`)).toBe(false);
    // Its notification lost: the sweep asks the provider.
    sim().setFault({ webhook: "drop" });
    const lost = await paidOrder("refund-lost");
    await refunded(lost);
    sim().setFault(null);

    // A refund we never asked for, or not a YooKassa id: answered 200, nothing recorded.
    const refund = sim().refunds.get(toldRefund)!;
    const log = app.runtime.store.log("sales");
    for (const object of [
      { ...refund, id: "2f3c1a9e-0016-5000-9000-000000000000" },
      { ...refund, id: "not a valid id!" },
      { ...refund, payment_id: lost.paymentId },
    ]) {
      const answer = await api("POST", "/payments/yookassa/webhook", {
        body: { type: "notification", event: "refund.succeeded", object },
      });
      expect(answer.status).toBe(200);
      if (object.id !== toldRefund) expect(await log.readStream(`refund-${object.id}`)).toEqual([]);
    }
    // The mismatched one (our refund id, another order's payment) added nothing to the genuine record.
    expect((await log.readStream(`refund-${toldRefund}`)).map((c) => (c.events[0].data as { orderId: string }).orderId)).toEqual([
      told.id,
    ]);
  });
});
