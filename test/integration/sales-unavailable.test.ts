import { startApp, type App } from "../../lib/app/app";
import { SERVICE_FACTORIES } from "../../services";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";
import { openShow } from "../support/show";

/**
 * The inventory gone (its node died, or has not started yet): what clients hear from the rest
 * of the platform. The distributed version, with the process SIGKILLed mid-sale, is
 * test/e2e/flash-sale-crash.test.ts; this one removes the service in one process, so the
 * registry knows at once that nothing serves it.
 */
describe("the inventory service is gone", () => {
  const env = quickStartEnv("no-inventory");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let buyer: string;

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf(env);
    buyer = await issuer.mint({ sub: "ivan", roles: ["customer"] });
    await openShow(api, issuer);
    await eventually(
      () => api<{ availability: Record<string, { available: number }> | null }>("GET", "/events/show"),
      (r) => r.body.availability?.ga?.available === 50,
    );
    await app.broker.destroyService(app.broker.getLocalService("inventory")!);
  });
  afterAll(async () => app?.stop());

  const order = () =>
    api<{ type?: string; message?: string }>("POST", "/orders", {
      token: buyer,
      body: {
        eventId: "show",
        items: [{ categoryId: "ga", quantity: 1 }],
        customer: { email: "ivan@example.com", phone: "+79001234567" },
      },
    });

  test("an order is refused with a retryable 503 and Retry-After, not a 404, naming nothing internal", async () => {
    const res = await order();
    expect(res.status).toBe(503);
    expect(res.body.type).toBe("SERVICE_UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.body.message).not.toMatch(/inventory/);
  });

  test("the event page still shows, without availability", async () => {
    const page = await api<{ id: string; availability: unknown }>("GET", "/events/show");
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ id: "show", availability: null });
  });

  test("the event page does not wait for an inventory that does not answer (a dead node not yet noticed)", async () => {
    let answer = () => undefined as void;
    const silent = new Promise<void>((resolve) => (answer = resolve));
    const stub = app.broker.createService({ name: "inventory", actions: { availability: () => silent.then(() => null) } });
    await app.broker.waitForServices("inventory", 10_000);
    try {
      const started = Date.now();
      const page = await api<{ availability: unknown }>("GET", "/events/show");
      expect(page.status).toBe(200);
      expect(page.body.availability).toBeNull();
      // Well within the gateway's own 10 s timeout (it took 4 x 10 s and ended in a 504).
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      answer();
      await app.broker.destroyService(stub);
    }
  });

  test("an unknown route is still a 404", async () => {
    expect((await api("GET", "/nowhere")).status).toBe(404);
  });

  test("once the inventory is back, the same order goes through", async () => {
    app.broker.createService(SERVICE_FACTORIES.inventory(app.runtime));
    await app.broker.waitForServices("inventory", 10_000);
    const res = await eventually(order, (r) => r.status !== 503, 20_000);
    expect(res.status).toBe(201);
  });
});
