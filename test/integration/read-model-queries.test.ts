import { randomUUID } from "node:crypto";
import { startApp, type App } from "../../lib/app/app";
import { SYSTEM } from "../../lib/app/context";
import { MongoStore } from "../../lib/store/mongo/mongo-store";
import { apiClient, eventually } from "../support/api-client";
import { mongoServerUri } from "../support/infra";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { STRICT_BACKENDS } from "../support/stores";

interface Rows<T> {
  rows: T[];
  total: number;
}

/**
 * The read models' own queries (moleculer-db's find and list over the live collection) keep
 * their conditions on every store. On MongoDB they once did not: the mongoose adapter turns
 * strictQuery on for the whole process, our read-model schema names only _id, so every
 * condition was dropped and "my orders" answered everyone's orders.
 */
describe.each(STRICT_BACKENDS)("read-model queries keep their conditions (%s)", (backend) => {
  const db = `rmq_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const env = quickStartEnv(`rmq-${backend}`, backend === "embedded" ? {} : { MONGO_URI: mongoServerUri(backend, db) });
  let app: App;
  let api: ReturnType<typeof apiClient>;
  const buyers = ["ann", "bob"] as const;
  const orderOf: Record<string, string> = {};

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    const ok = async (path: string, token: string, body?: unknown) => {
      const answer = await api("POST", path, { token, body });
      if (answer.status >= 300) throw new Error(`POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    await ok("/organizers", admin, { id: "org", name: "Org" });
    await ok("/venues", olga, {
      id: "hall",
      name: "Hall",
      address: "Arbat 1",
      city: "Moscow",
      timezone: "Europe/Moscow",
      layout: { sections: [{ id: "A", name: "A", rows: [{ id: "1", seats: ["1", "2"] }] }] },
    });
    await ok("/events", olga, {
      id: "gig",
      venueId: "hall",
      name: "Gig",
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    });
    await ok("/events/gig/categories", olga, {
      categoryId: "free",
      name: "Free",
      price: 0,
      currency: "RUB",
      kind: "ga",
      quota: 2,
    });
    await ok("/events/gig/publish", olga);
    for (const sub of buyers) {
      const token = await issuer.mint({ sub, roles: ["customer"] });
      const placed = await eventually(
        () =>
          api<{ id: string }>("POST", "/orders", {
            token,
            body: {
              eventId: "gig",
              customer: { email: `${sub}@example.com`, phone: "+79001234567" },
              items: [{ categoryId: "free", quantity: 1 }],
            },
          }),
        (r) => r.status === 201,
      );
      orderOf[sub] = placed.body.id;
      const named = await api("PATCH", "/me", { token, body: { name: `${sub} Tester` } });
      if (named.status !== 200) throw new Error(`PATCH /me: ${named.status} ${JSON.stringify(named.body)}`);
    }
  });
  afterAll(async () => {
    const store = app?.runtime.store;
    if (store instanceof MongoStore) await store.connection.dropDatabase().catch(() => undefined);
    await app?.stop();
  });

  test("each buyer's orders and tickets are their own", async () => {
    const issuer = await devIssuerOf(env);
    for (const sub of buyers) {
      const token = await issuer.mint({ sub, roles: ["customer"] });
      // The other buyer's order is in the read model too before either list is read.
      const orders = await eventually(
        () => api<Rows<{ id: string; userId: string }>>("GET", "/me/orders", { token }),
        (r) => r.status === 200 && r.body.rows.some((o) => o.id === orderOf[sub]),
      );
      expect(orders.body.rows.map((o) => o.id)).toEqual([orderOf[sub]]);
      expect(orders.body.total).toBe(1);
      const tickets = await eventually(
        () => api<Rows<{ orderId: string }>>("GET", "/me/tickets", { token }),
        (r) => r.status === 200 && r.body.rows.length > 0,
      );
      expect(tickets.body.rows.map((t) => t.orderId)).toEqual([orderOf[sub]]);
    }
  });

  test("the text searches of events and users find what contains the text, and only that", async () => {
    const search = (q: string) => api<Rows<{ id: string }>>("GET", `/events?q=${encodeURIComponent(q)}`);
    expect((await search("gi")).body.rows.map((e) => e.id)).toEqual(["gig"]);
    expect((await search("zzz")).body.rows).toEqual([]);
    const admin = await (await devIssuerOf(env)).mint({ sub: "root", roles: ["admin"] });
    const users = await eventually(
      () => api<Rows<{ id: string }>>("GET", "/users?q=ann%20tes", { token: admin }),
      (r) => r.status === 200 && r.body.rows.length > 0,
    );
    expect(users.body.rows.map((u) => u.id)).toEqual(["ann"]);
  });

  test("a range condition on a field the schema does not name still filters", async () => {
    const now = Date.now();
    const find = (query: Record<string, unknown>) =>
      app.broker.call<Array<{ id: string }>, object>("events.find", { query, fields: ["id"] }, { meta: { user: SYSTEM } });
    // The event starts in 2031: not within the next day, but within the next ten years.
    expect(await find({ startsAt: { $gt: now, $lte: now + 86_400_000 } })).toEqual([]);
    expect(await find({ startsAt: { $gt: now, $lte: now + 10 * 365 * 86_400_000 } })).toEqual([{ id: "gig" }]);
  });
});
