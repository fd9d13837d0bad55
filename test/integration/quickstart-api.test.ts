import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";

/**
 * The quick start as a user meets it: one process, embedded store in a data directory, the
 * development issuer, the REST API over a real socket.
 */
describe("quick start: catalogue through the REST API", () => {
  const env = quickStartEnv("quickstart");
  const dataDir = env.DATA_DIR;
  let app: App;
  let issuer: DevIssuer;
  let api: ReturnType<typeof apiClient>;
  let admin: string;
  let org1: string;
  let org2: string;

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    admin = await issuer.mint({ roles: ["admin"] });
    org1 = await issuer.mint({ sub: "alice", roles: ["organizer"], organizerId: "org-1" });
    org2 = await issuer.mint({ sub: "bob", roles: ["organizer"], organizerId: "org-2" });
  });
  afterAll(async () => app?.stop());

  const head = () => app.runtime.store.log("catalogue").head();

  /** A token signed with the development issuer's own key, for claims its mint() refuses to make. */
  async function signWithDevKey(claims: Record<string, unknown>, { expiresAt }: { expiresAt: number }): Promise<string> {
    const jwk = JSON.parse(readFileSync(join(dataDir, "dev-issuer", "keys.json"), "utf8")) as JWK & { kid: string };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "JWT" })
      .setIssuer(env.DEV_ISSUER)
      .setAudience("ticketing-api")
      .setSubject("late")
      .setIssuedAt(expiresAt - 300)
      .setExpirationTime(expiresAt)
      .sign(await importJWK(jwk, "RS256"));
  }

  test("organizer, venue, artist, event: created, geocoded, synced, published, searchable", async () => {
    const organizer = await api("POST", "/organizers", {
      token: admin,
      body: {
        id: "org-1",
        name: "Vibe Concerts",
        legals: { name: "OOO Vibe", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195" },
      },
    });
    expect(organizer.status).toBe(201);
    expect(organizer.headers.get("location")).toBe("/api/organizers/org-1");
    expect(organizer.body).toMatchObject({ id: "org-1", name: "Vibe Concerts" });
    expect(organizer.body).not.toHaveProperty("_pos");
    expect((await api("POST", "/organizers", { token: org2, body: { name: "Second" } })).status).toBe(201);

    const venue = await api("POST", "/venues", {
      token: org1,
      body: {
        id: "luzhniki",
        name: "Luzhniki",
        address: "Luzhnetskaya nab., 24",
        city: "Moscow",
        timezone: "Europe/Moscow",
        layout: {
          sections: [
            {
              id: "A",
              name: "Stalls",
              rows: [
                { id: "1", seats: ["1", "2", "3"] },
                { id: "2", seats: ["1", "2"] },
              ],
            },
          ],
        },
      },
    });
    expect(venue.status).toBe(201);
    expect(venue.body).toMatchObject({ capacity: 5, seated: true, geocoding: { status: "pending" } });

    const artist = await api("POST", "/artists", {
      token: org1,
      body: { id: "zemfira", name: "Zemfira", genres: ["rock"], yandexMusicId: "1000001" },
    });
    expect(artist.status).toBe(201);

    const event = await api("POST", "/events", {
      token: org1,
      body: {
        id: "e1",
        venueId: "luzhniki",
        artistIds: ["zemfira"],
        name: "Zemfira Live",
        category: "concert",
        startsAt: "2030-06-01T19:00:00+03:00",
        endsAt: "2030-06-01T22:00:00+03:00",
      },
    });
    expect(event.status).toBe(201);
    expect(event.body).toMatchObject({
      status: "draft",
      startsAtIso: "2030-06-01T19:00:00+03:00",
      organizer: { id: "org-1", name: "Vibe Concerts" },
    });

    // Drafts are invisible to everyone but their organizer.
    expect((await api("GET", "/events/e1")).status).toBe(404);
    expect((await api("GET", "/events/e1", { token: org2 })).status).toBe(404);
    expect((await api("GET", "/events/e1", { token: org1 })).status).toBe(200);
    expect((await api("GET", "/events?status=draft")).status).toBe(403);
    expect((await api<{ total: number }>("GET", "/events?status=draft&organizer=org-1", { token: org1 })).body.total).toBe(1);

    const publishEarly = await api("POST", "/events/e1/publish", { token: org1 });
    expect(publishEarly.status).toBeGreaterThanOrEqual(400);
    expect(publishEarly.body.type).toBe("EVENT_NOT_PUBLISHABLE");

    expect(
      (
        await api("POST", "/events/e1/categories", {
          token: org1,
          body: { categoryId: "vip", name: "VIP", price: 900000, currency: "RUB", kind: "seated", seats: ["A:1:1", "A:1:2"] },
        })
      ).status,
    ).toBe(201);
    const conflict = await api("POST", "/events/e1/categories", {
      token: org1,
      body: { name: "VIP2", price: 1, currency: "RUB", kind: "seated", seats: ["A:1:2"] },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.type).toBe("SEAT_CONFLICT");
    const tooMany = await api("POST", "/events/e1/categories", {
      token: org1,
      body: { name: "Floor", price: 350000, currency: "RUB", kind: "ga", quota: 10 },
    });
    expect(tooMany.body.type).toBe("CAPACITY_EXCEEDED");
    expect(
      (
        await api("POST", "/events/e1/categories", {
          token: org1,
          body: { categoryId: "floor", name: "Floor", price: 350000, currency: "RUB", kind: "ga", quota: 3 },
        })
      ).status,
    ).toBe(201);

    const published = await api("POST", "/events/e1/publish", { token: org1 });
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: "on_sale", capacity: 5, priceFrom: 350000, currency: "RUB" });

    const found = await api<{ rows: Array<{ id: string }>; total: number }>(
      "GET",
      "/events?q=ZEMF&city=moscow&category=concert&from=2030-01-01T00:00:00Z&to=2030-12-31T00:00:00Z",
    );
    expect(found.body.rows.map((r) => r.id)).toEqual(["e1"]);
    const slim = await api<{ rows: unknown[] }>("GET", "/events?q=zemf&select=id,name,priceFrom");
    expect(slim.body.rows).toEqual([{ id: "e1", name: "Zemfira Live", priceFrom: 350000 }]);
    expect((await api("GET", "/events/e1?select=status,capacity")).body).toEqual({ status: "on_sale", capacity: 5 });
    for (const miss of [
      "q=nothing",
      "city=kazan",
      "category=sport",
      "from=2031-01-01T00:00:00Z",
      "artist=someone",
      "organizer=org-2",
    ]) {
      expect((await api<{ total: number }>("GET", `/events?${miss}`)).body.total).toBe(0);
    }
    expect((await api<{ total: number }>("GET", "/events?artist=zemfira&organizer=org-1")).body.total).toBe(1);
    const badDate = await api("GET", "/events?from=yesterday");
    expect(badDate.status).toBe(400);
    expect(badDate.body.data).toEqual({ field: "from" });

    // Background work finishes without anyone waiting for it.
    const located = await eventually(
      () => api("GET", "/venues/luzhniki"),
      (r) => (r.body.geocoding as { status: string }).status === "located",
    );
    expect(located.body.location).toEqual({ lat: expect.any(Number), lon: expect.any(Number) });
    const synced = await eventually(
      () => api("GET", "/artists/zemfira"),
      (r) => (r.body.sync as { status: string }).status === "synced",
    );
    expect((synced.body.discography as { albums: unknown[] }).albums.length).toBeGreaterThan(0);
    const withCoordinates = await eventually(
      () => api("GET", "/events/e1"),
      (r) => (r.body.venue as { lat: number | null }).lat !== null,
    );
    expect(withCoordinates.body.venue).toMatchObject({ id: "luzhniki", lat: expect.any(Number), lon: expect.any(Number) });
  });

  test("tokens: missing, malformed, expired, foreign or under-privileged callers change nothing", async () => {
    const before = await head();
    const body = { name: "Intruder" };
    expect((await api("POST", "/organizers", { body })).status).toBe(401);
    expect((await api("POST", "/organizers", { body, token: "not-a-jwt" })).body.type).toBe("TOKEN_MALFORMED");
    const expired = await signWithDevKey(
      { realm_access: { roles: ["admin"] } },
      { expiresAt: Math.floor(Date.now() / 1000) - 120 },
    );
    expect((await api("POST", "/organizers", { body, token: expired })).body.type).toBe("TOKEN_EXPIRED");
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT({ realm_access: { roles: ["admin"] } })
      .setProtectedHeader({ alg: "RS256", kid: "forged" })
      .setIssuer(env.DEV_ISSUER)
      .setAudience("ticketing-api")
      .setSubject("mallory")
      .setExpirationTime("5m")
      .sign(privateKey);
    expect((await api("POST", "/organizers", { body, token: forged })).status).toBe(401);
    const customer = await issuer.mint({ roles: ["customer"] });
    expect((await api("POST", "/organizers", { body, token: customer })).status).toBe(403);
    // Another organizer may not touch org-1's event, nor create an event for org-1.
    expect((await api("PATCH", "/events/e1", { token: org2, body: { name: "Hijacked" } })).status).toBe(403);
    expect((await api("POST", "/events/e1/pause", { token: org2 })).status).toBe(403);
    expect((await api("PATCH", "/organizers/org-1", { token: org2, body: { name: "Mine now" } })).status).toBe(403);
    expect(await head()).toBe(before);
    expect((await api("GET", "/events/e1")).body.name).toBe("Zemfira Live");
  });

  test("bad input gets a clear error naming the problem and changes nothing", async () => {
    const before = await head();
    const unknownField = await api<{ data: Array<{ type: string; message: string }> }>("POST", "/organizers", {
      token: admin,
      body: { name: "X", bogus: 1 },
    });
    expect(unknownField.status).toBe(422);
    // Named by what is accepted, never by repeating what was sent.
    expect(unknownField.body.data).toEqual([
      { type: "objectStrict", field: "", message: "The request has fields it does not accept (it accepts 'id, name, legals')." },
    ]);
    const badInn = await api("POST", "/organizers", {
      token: admin,
      body: { name: "X", legals: { name: "L", type: "ru_ltd", inn: "1234567890" } },
    });
    expect(badInn.status).toBe(400);
    expect(badInn.body.data).toEqual({ field: "legals.inn" });
    expect((await api("POST", "/organizers", { token: admin, rawBody: "{not json" })).status).toBe(400);
    const badDates = await api("POST", "/events", {
      token: org1,
      body: {
        venueId: "luzhniki",
        name: "Back in time",
        category: "concert",
        startsAt: "2030-06-01T22:00:00+03:00",
        endsAt: "2030-06-01T19:00:00+03:00",
      },
    });
    expect(badDates.status).toBe(400);
    expect(
      (
        await api("POST", "/events", {
          token: org1,
          body: {
            venueId: "nowhere",
            name: "X",
            category: "concert",
            startsAt: "2030-06-01T19:00:00Z",
            endsAt: "2030-06-01T22:00:00Z",
          },
        })
      ).status,
    ).toBe(404);
    expect((await api("GET", "/organizers?sort=password")).status).toBe(422);
    const injected = await api<{ data: Array<{ field: string }> }>(
      "GET",
      "/organizers?query=%7B%22%24where%22%3A%22sleep(1000)%22%7D",
    );
    expect(injected.status).toBe(422);
    expect(injected.body.data[0].field).toBe("query");
    expect(
      (await api("POST", "/organizers", { token: admin, body: { name: "X" }, headers: { "idempotency-key": "bad key!" } }))
        .status,
    ).toBe(400);
    expect(await head()).toBe(before);
  });

  test("a repeated Idempotency-Key returns the first answer and writes once", async () => {
    const before = await head();
    const send = () =>
      api("POST", "/artists", { token: org1, body: { name: "Splean" }, headers: { "idempotency-key": "create-splean-0001" } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(await head()).toBe(before + 1);
    // The same key from another caller is another command.
    const other = await api("POST", "/artists", {
      token: org2,
      body: { name: "Splean" },
      headers: { "idempotency-key": "create-splean-0001" },
    });
    expect(other.body.id).not.toBe(first.body.id);
  });

  test("health, readiness and a restart that keeps the data", async () => {
    expect((await api("GET", "/health")).status).toBe(200);
    const ready = await api<{ status: string; nodes: Array<{ runners: Array<{ runner: string; state: string }> }> }>(
      "GET",
      "/ready",
      { token: admin },
    );
    expect(ready.status).toBe(200);
    expect(ready.body.nodes[0].runners.map((r) => r.runner)).toEqual(
      expect.arrayContaining(["catalogue.events", "catalogue.organizers", "catalogue.venues.geocoding"]),
    );
    await app.stop();
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    const event = await api("GET", "/events/e1");
    expect(event.status).toBe(200);
    expect(event.body).toMatchObject({ name: "Zemfira Live", status: "on_sale" });
  });
});
