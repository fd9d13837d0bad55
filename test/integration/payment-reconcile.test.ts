import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { startYookassaSimulator, type YookassaSimulator } from "../../lib/ports/yookassa/yookassa.simulator";
import type { OrdersService } from "../../services/orders/order-commands";
import { reconcilePayments } from "../../services/orders/payments";
import { apiClient, eventually } from "../support/api-client";
import { openGaSale } from "../support/ga-sale";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface OrderReply {
  id: string;
  status: string;
  payment: { id: string } | null;
  tickets: unknown[];
}

const SHOP = { shopId: "reconcile-shop", secretKey: "reconcile-secret" };

/**
 * The reconciliation sweep across a restart: the provider (a simulator outside the app, as
 * YooKassa is) authorises a payment while our process is down, so its notification never
 * arrives. Started again on the same data, the app finds the order in its read model, fetches
 * the payment and sells it; sweeps running side by side (as on several nodes) record it once.
 */
describe("payment reconciliation after a restart", () => {
  let sim: YookassaSimulator;
  let app: App | null = null;
  let issuer: DevIssuer;
  const env = quickStartEnv("payment-reconcile", {
    PAYMENT_PROVIDER: "yookassa",
    YOOKASSA_SHOP_ID: SHOP.shopId,
    YOOKASSA_SECRET_KEY: SHOP.secretKey,
    YOOKASSA_WEBHOOK_ALLOWLIST: "127.0.0.1,::1",
    HOLD_TTL_SECONDS: "600",
    PAYMENT_RECONCILE_AFTER_MS: "1000",
  });
  const start = async () => {
    app = await startApp({ ...env, YOOKASSA_URL: sim.apiUrl });
    sim.setWebhookUrl(`${app.apiUrl!.replace("localhost", "127.0.0.1")}/payments/yookassa/webhook`);
    return apiClient(app.apiUrl!);
  };

  beforeAll(async () => {
    sim = await startYookassaSimulator({ ...SHOP, webhookAttempts: 2, webhookBackoffMs: 50 });
    issuer = await devIssuerOf(env);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.close();
  });

  test("a payment authorised while we were down is sold after the restart, and recorded once", async () => {
    let api = await start();
    await openGaSale(api, issuer, 10);
    const ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    const placed = await eventually(
      () =>
        api<OrderReply>("POST", "/orders", {
          token: ann,
          body: {
            eventId: "show",
            customer: { email: "ann@example.com", phone: "+79001234567" },
            items: [{ categoryId: "floor", quantity: 2 }],
          },
        }),
      (r) => r.status === 201,
    );
    const paymentId = placed.body.payment!.id;

    await app!.stop();
    app = null;
    // The buyer pays while we are down: every delivery of the notification fails.
    sim.pay(paymentId);
    await sim.flushWebhooks();
    expect(sim.deliveries.filter((d) => d.objectId === paymentId).every((d) => d.status === undefined)).toBe(true);
    expect(sim.payments.get(paymentId)?.status).toBe("waiting_for_capture");

    api = await start();
    // Sweeps side by side, as on several nodes, beside the app's own.
    const orders = app!.broker.getLocalService("orders") as unknown as OrdersService;
    await Promise.all([1, 2, 3].map(() => reconcilePayments(app!.runtime, orders)));
    const paid = await eventually(
      () => api<OrderReply>("GET", `/orders/${placed.body.id}`, { token: ann }),
      (r) => r.body.status === "paid",
    );
    expect(paid.body.tickets).toHaveLength(2);
    await eventually(
      async () => sim.payments.get(paymentId)?.status,
      (s) => s === "succeeded",
    );
    const pointers = await app!.runtime.store.log("sales").readStream(`payment-${paymentId}`);
    expect(pointers.filter((c) => c.commandId?.startsWith(`yookassa:${paymentId}:waiting_for_capture`))).toHaveLength(1);
    expect(sim.requests.filter((r) => r.path === `/v3/payments/${paymentId}/capture` && r.status === 200).length).toBeGreaterThan(
      0,
    );
  });
});
