import { startApp, type App } from "../../lib/app/app";
import { IDEMPOTENCY_COLLECTION, IdempotencyKeys, type IdempotencyRecord } from "../../services/api/idempotency";
import { apiClient, eventually } from "../support/api-client";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface OrderReply {
  id: string;
  status: string;
  payment: { id: string } | null;
}

/**
 * Idempotency-Key over real HTTP in the quick start: a key names one request of one caller on
 * one route and resource, so it can neither merge two commands nor answer a different one.
 */
describe("Idempotency-Key: scoped to caller, route and resource", () => {
  const env = quickStartEnv("idempotency");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let olga: string;
  let ann: string;
  const customer = { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" };
  const sim = () => app.runtime.paymentSimulator!;

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    expect((await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } })).status).toBe(201);
    const venue = { id: "hall", name: "Hall", address: "Arbat 1", city: "Moscow", timezone: "Europe/Moscow", capacity: 100 };
    expect((await api("POST", "/venues", { token: olga, body: venue })).status).toBe(201);
    const event = {
      id: "gig",
      venueId: "hall",
      name: "Gig",
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    };
    expect((await api("POST", "/events", { token: olga, body: event })).status).toBe(201);
    const floor = { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota: 10 };
    expect((await api("POST", "/events/gig/categories", { token: olga, body: floor })).status).toBe(201);
    expect((await api("POST", "/events/gig/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability?: { floor?: { available: number } } }>("GET", "/events/gig"),
      (r) => r.body.availability?.floor?.available === 10,
    );
  });
  afterAll(async () => app?.stop());

  const orderBody = (quantity: number) => ({ eventId: "gig", customer, items: [{ categoryId: "floor", quantity }] });

  async function paidOrder(): Promise<OrderReply> {
    const placed = await api<OrderReply>("POST", "/orders", { token: ann, body: orderBody(1) });
    expect(placed.status).toBe(201);
    sim().pay(placed.body.payment!.id);
    return (
      await eventually(
        () => api<OrderReply>("GET", `/orders/${placed.body.id}`, { token: ann }),
        (r) => r.body.status === "paid",
      )
    ).body;
  }

  test("an organizer refunding two of its orders with one key makes two refunds", async () => {
    const [first, second] = [await paidOrder(), await paidOrder()];
    const headers = { "idempotency-key": "refund-key-0001" };
    const a = await api<{ refundId: string }>("POST", `/orders/${first.id}/refunds`, { token: olga, body: {}, headers });
    const b = await api<{ refundId: string }>("POST", `/orders/${second.id}/refunds`, { token: olga, body: {}, headers });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.refundId).not.toBe(b.body.refundId);
    // A retry of the first is still the first.
    const again = await api<{ refundId: string }>("POST", `/orders/${first.id}/refunds`, { token: olga, body: {}, headers });
    expect(again.body.refundId).toBe(a.body.refundId);
    // The money of both goes back at the provider.
    await eventually(
      async () => [...sim().refunds.values()].filter((r) => [first, second].some((o) => o.payment!.id === r.payment_id)).length,
      (n) => n === 2,
    );
  });

  test("POST /api/orders: the same key and body answer the first order; another body is 422 IDEMPOTENCY_KEY_REUSED", async () => {
    const headers = { "idempotency-key": "order-key-0001" };
    const first = await api<OrderReply>("POST", "/orders", { token: ann, body: orderBody(1), headers });
    expect(first.status).toBe(201);
    const same = await api<OrderReply>("POST", "/orders", { token: ann, body: orderBody(1), headers });
    expect(same.body.id).toBe(first.body.id);
    const other = await api<{ type: string }>("POST", "/orders", { token: ann, body: orderBody(2), headers });
    expect([other.status, other.body.type]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
    // The query is part of the request too.
    const withQuery = await api<{ type: string }>("POST", "/orders?x=1", { token: ann, body: orderBody(1), headers });
    expect([withQuery.status, withQuery.body.type]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
  });

  test("a request refused before it ran (invalid parameters, no role) leaves the key free for the corrected one", async () => {
    const headers = { "idempotency-key": "order-fix-0001" };
    const invalid = await api<{ type: string }>("POST", "/orders", {
      token: ann,
      body: { ...orderBody(1), items: "one" },
      headers,
    });
    expect([invalid.status, invalid.body.type]).toEqual([422, "VALIDATION_ERROR"]);
    const forbidden = await api("POST", "/orders/nope-1/refunds", { token: ann, body: {}, headers });
    expect(forbidden.status).toBe(403);
    const fixed = await api<OrderReply>("POST", "/orders", { token: ann, body: orderBody(1), headers });
    expect(fixed.status).toBe(201);
  });

  test("two racing requests with one key and different bodies cannot both pass", async () => {
    const headers = { "idempotency-key": "order-race-0001" };
    const answers = await Promise.all(
      [1, 2, 1, 2, 1, 2].map((quantity) =>
        api<OrderReply & { type?: string }>("POST", "/orders", { token: ann, body: orderBody(quantity), headers }),
      ),
    );
    const created = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status === 422);
    expect(created.length + refused.length).toBe(6);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(refused.every((r) => r.body.type === "IDEMPOTENCY_KEY_REUSED")).toBe(true);
  });

  test("records are kept 24 hours and swept after; a key reused after that is a new request", async () => {
    const keys = new IdempotencyKeys(app.runtime.store.collection<IdempotencyRecord>(IDEMPOTENCY_COLLECTION));
    const request = {
      key: "sweep-key-0001",
      caller: "ann",
      method: "POST",
      route: "/api/orders",
      pathParams: {},
      body: {},
      query: {},
    };
    const t0 = Date.now();
    const first = await keys.commandIdOf(request, t0);
    expect(await keys.commandIdOf(request, t0 + 60_000)).toBe(first);
    await expect(keys.commandIdOf({ ...request, body: { other: 1 } }, t0 + 60_000)).rejects.toMatchObject({
      type: "IDEMPOTENCY_KEY_REUSED",
    });
    const day = 24 * 60 * 60_000;
    // The HTTP requests above made records earlier than t0: those go, this one stays.
    await keys.sweep(t0 + day - 1);
    expect(await keys.commandIdOf(request, t0 + day - 1)).toBe(first);
    // Expired but not swept yet: a new command; swept: gone.
    const later = await keys.commandIdOf({ ...request, body: { other: 1 } }, t0 + day + 1);
    expect(later).not.toBe(first);
    expect(await keys.sweep(t0 + 2 * day + 2)).toBeGreaterThanOrEqual(1);
  });
});
