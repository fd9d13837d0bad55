import { startApp, type App } from "../../lib/app/app";
import { SYSTEM } from "../../lib/app/context";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { USERS_LOG, type UserProfile } from "../../lib/domain/notifications";
import { userCommand, usersFindCommand } from "../../lib/repl/users.command";
import { SERVICE_FACTORIES } from "../../services";
import { apiClient, eventually } from "../support/api-client";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface Profile {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  timeZone: string | null;
  preferences: Record<string, Record<string, boolean>>;
  devices: Array<{ id: string; kind: string; label?: string }>;
  blocked: { reason: string; at: number } | null;
  updatedAt: number;
}
interface Page<T> {
  rows: T[];
  total: number;
}
interface ErrorBody {
  type: string;
  message: string;
  data?: unknown;
}

const webPush = {
  endpoint: "https://updates.push.services.mozilla.com/wpush/v2/sub-1",
  keys: { p256dh: Buffer.alloc(65, 4).toString("base64url"), auth: Buffer.alloc(16, 9).toString("base64url") },
};

/** Users through the real gateway of a quick start: profiles, devices, admins, and what booking takes from them. */
describe("users", () => {
  const env = quickStartEnv("users");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let admin: string;
  let ann: string;
  let bob: string;

  const me = (token: string) => api<Profile & ErrorBody>("GET", "/me", { token });
  const patch = (token: string, body: Record<string, unknown>) => api<Profile & ErrorBody>("PATCH", "/me", { token, body });
  const userEvents = async (sub: string) =>
    (await app.runtime.store.log(USERS_LOG).readStream(`user-${sub}`)).flatMap((c) => c.events.map((e) => e.type));
  const order = (token: string, body: Record<string, unknown> = {}) =>
    api<{ id: string; customer: Record<string, string> } & ErrorBody>("POST", "/orders", {
      token,
      body: { eventId: "show", items: [{ categoryId: "entry", quantity: 1 }], ...body },
    });

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    ann = await issuer.mint({ sub: "ann", roles: ["customer"], name: "Ann Lee", email: "ann@example.com" });
    bob = await issuer.mint({ sub: "bob", roles: ["customer"] });
    const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } });
    await api("POST", "/venues", {
      token: olga,
      body: { id: "hall", name: "Hall", address: "Arbat 1", city: "Moscow", timezone: "Europe/Moscow", capacity: 100 },
    });
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "show",
        venueId: "hall",
        name: "Show",
        category: "concert",
        startsAt: "2031-06-01T19:00:00+03:00",
        endsAt: "2031-06-01T22:00:00+03:00",
      },
    });
    const entry = { categoryId: "entry", name: "Entry", price: 100000, currency: "RUB", kind: "ga", quota: 50 };
    expect((await api("POST", "/events/show/categories", { token: olga, body: entry })).status).toBe(201);
    // Free tickets are issued at once: a user with tickets, without a payment.
    const free = { ...entry, categoryId: "free", name: "Guest list", price: 0 };
    expect((await api("POST", "/events/show/categories", { token: olga, body: free })).status).toBe(201);
    expect((await api("POST", "/events/show/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability?: Record<string, { available: number }> }>("GET", "/events/show"),
      (r) => r.body.availability?.entry?.available === 50,
    );
  });
  afterAll(async () => app?.stop());

  test("a person's first authenticated call creates the profile from the token; a door scanner gets none", async () => {
    // Any call will do: here the list of Ann's orders.
    expect((await api("GET", "/me/orders", { token: ann })).status).toBe(200);
    expect(await userEvents("ann")).toEqual(["UserRegistered"]);
    const shown = await api<Profile>("GET", "/users/ann", { token: admin });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: "ann", name: "Ann Lee", email: "ann@example.com", phone: null, blocked: null });
    expect((await me(ann)).body).toMatchObject({ id: "ann", name: "Ann Lee", devices: [] });

    const door = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "org" });
    await api("POST", "/checkin", { token: door, body: { barcode: "0000000000000000" } });
    expect(await userEvents("door")).toEqual([]);
  });

  test("two first calls at once both succeed and register the user once", async () => {
    const token = await issuer.mint({ sub: "twin", roles: ["customer"] });
    const answers = await Promise.all(Array.from({ length: 6 }, () => me(token)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await userEvents("twin")).toEqual(["UserRegistered"]);
  });

  test("PATCH /me refuses a bad phone, an unknown zone, or every channel of a receipt off, changing nothing", async () => {
    const before = (await me(ann)).body;
    const badPhone = await patch(ann, { phone: "8 900 123", locale: "en" });
    expect([badPhone.status, badPhone.body.message]).toEqual([422, expect.stringMatching(/^phone: /)]);
    const badZone = await patch(ann, { timeZone: "Europe/Atlantis" });
    expect([badZone.status, badZone.body.message]).toEqual([422, expect.stringMatching(/^timeZone: /)]);
    const allOff = await patch(ann, { preferences: { order_paid: { email: false, push: false } } });
    expect(allOff.status).toBe(422);
    expect(allOff.body.message).toMatch(/order_paid/);
    const unknownKind = await patch(ann, { preferences: { spam: { email: true } } });
    expect(unknownKind.status).toBe(422);
    expect((await me(ann)).body).toEqual(before);

    const good = await patch(ann, {
      phone: "+7 900 123-45-67",
      locale: "en",
      timeZone: "Asia/Yekaterinburg",
      preferences: { order_paid: { sms: true } },
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ phone: "+79001234567", locale: "en", timeZone: "Asia/Yekaterinburg" });
    expect(good.body.preferences.order_paid).toEqual({ email: true, sms: true, push: true });
    const events = await userEvents("ann");
    // The same values again append nothing.
    expect((await patch(ann, { phone: "+79001234567", locale: "en" })).status).toBe(200);
    expect(await userEvents("ann")).toEqual(events);
  });

  test("devices: an FCM token or a Web Push subscription; registering again changes nothing; a gone one disappears", async () => {
    const fcm = await api<{ id: string; kind: string } & ErrorBody>("POST", "/me/devices", {
      token: ann,
      body: { fcmToken: "fcm-token-of-anns-phone", label: "Pixel" },
    });
    expect(fcm.status).toBe(201);
    expect(fcm.body).toMatchObject({ kind: "fcm", label: "Pixel" });
    expect(fcm.headers.get("location")).toBe(`/api/me/devices/${fcm.body.id}`);
    const again = await api<{ id: string }>("POST", "/me/devices", {
      token: ann,
      body: { fcmToken: "fcm-token-of-anns-phone", label: "Pixel" },
    });
    expect(again.body.id).toBe(fcm.body.id);
    const browser = await api<{ id: string }>("POST", "/me/devices", { token: ann, body: { webPush, label: "Firefox" } });
    expect(browser.status).toBe(201);
    // Our nodes will POST to the endpoint: plain http, or anything but a browser's push service
    // (an internal address, a look-alike host), is refused before anything is recorded.
    for (const endpoint of [
      "http://updates.push.services.mozilla.com/x",
      "https://169.254.169.254/latest/meta-data",
      "https://10.0.0.5:8443/admin",
      "https://updates.push.services.mozilla.com.evil.test/x",
    ]) {
      const refused = await api<ErrorBody>("POST", "/me/devices", { token: ann, body: { webPush: { ...webPush, endpoint } } });
      expect([refused.status, refused.body.message]).toEqual([422, expect.stringMatching(/webPush\.endpoint/)]);
    }

    const listed = await api<Page<{ id: string; kind: string }>>("GET", "/me/devices", { token: ann });
    expect(listed.body.rows.map((d) => d.kind)).toEqual(["fcm", "webpush"]);
    // Neither the token nor the keys are shown back.
    expect(JSON.stringify(listed.body)).not.toMatch(/fcm-token-of-anns-phone|p256dh/);

    // The notification service's view has the targets, and it reports a device gone.
    const profile = await app.broker.call<UserProfile, { id: string }>("users.profile", { id: "ann" });
    expect(profile.devices.find((d) => d.id === browser.body.id)?.target).toEqual({ kind: "webpush", subscription: webPush });
    await app.broker.call(
      "users.removeDevice",
      { id: "ann", deviceId: browser.body.id, reason: "gone" },
      { meta: { user: SYSTEM } },
    );
    expect((await api("DELETE", `/me/devices/${fcm.body.id}`, { token: ann })).status).toBe(200);
    expect((await api("DELETE", `/me/devices/${fcm.body.id}`, { token: ann })).status).toBe(404);
    expect((await api<Page<unknown>>("GET", "/me/devices", { token: ann })).body.rows).toEqual([]);
  });

  test("an order without customer takes the profile's contact data; a body's customer wins; neither is a 422", async () => {
    const placed = await order(ann);
    expect(placed.status).toBe(201);
    expect(placed.body.customer).toEqual({ email: "ann@example.com", phone: "+79001234567", firstName: "Ann", lastName: "Lee" });

    const own = { email: "other@example.com", phone: "+12025550123", firstName: "Someone" };
    const withBody = await order(ann, { customer: own });
    expect([withBody.status, withBody.body.customer]).toEqual([201, own]);

    // Bob's token has no e-mail and his profile no phone.
    const neither = await order(bob);
    expect(neither.status).toBe(422);
    expect(neither.body.type).toBe("CONTACT_MISSING");
    expect(neither.body.message).toMatch(/customer\.email: not in the request nor in your profile/);
    expect(neither.body.message).toMatch(/customer\.phone/);

    // The order keeps the contact data it was placed with.
    await patch(ann, { email: "ann.new@example.com" });
    const kept = await api<{ customer: Record<string, string> }>("GET", `/orders/${placed.body.id}`, { token: ann });
    expect(kept.body.customer.email).toBe("ann@example.com");
  });

  test("admins search by name, e-mail or phone; others may not, whatever they send", async () => {
    const found = (q: string) =>
      eventually(
        () => api<Page<Profile>>("GET", `/users?q=${encodeURIComponent(q)}`, { token: admin }),
        (r) => r.body.rows.some((u) => u.id === "ann"),
      );
    expect((await found("ann.new@")).body.rows.map((u) => u.id)).toEqual(["ann"]);
    expect((await found("LEE")).status).toBe(200);
    expect((await found("+7 900 123")).status).toBe(200);
    const paged = await api<Page<Profile> & { pageSize: number }>("GET", "/users?pageSize=1&page=1", { token: admin });
    expect([paged.body.rows.length, paged.body.pageSize]).toEqual([1, 1]);
    // Authorization comes first: a bad page size from a customer is still a 403.
    expect((await api("GET", "/users?pageSize=100000", { token: ann })).status).toBe(403);
    expect((await api("GET", "/users/ann", { token: bob })).status).toBe(403);
    expect((await api("POST", "/users/ann/block", { token: bob, body: { reason: "x" } })).status).toBe(403);
  });

  test("a blocked user can read but not buy; the reason is recorded; unblocked, they buy again", async () => {
    const blocked = await api<Profile>("POST", "/users/ann/block", { token: admin, body: { reason: "chargeback fraud" } });
    expect(blocked.status).toBe(200);
    expect(blocked.body.blocked).toMatchObject({ reason: "chargeback fraud" });
    const refused = await order(ann);
    expect([refused.status, refused.body.type]).toEqual([403, "USER_BLOCKED"]);
    expect((await order(ann, { customer: { email: "a@example.com", phone: "+79001234567" } })).status).toBe(403);
    expect((await api("GET", "/me/orders", { token: ann })).status).toBe(200);
    expect((await me(ann)).body.blocked).toMatchObject({ reason: "chargeback fraud" });

    const shown = await eventually(
      () => api<Profile & { orders: number; tickets: number }>("GET", "/users/ann", { token: admin }),
      (r) => r.body.orders === 2,
    );
    expect(shown.body).toMatchObject({ orders: 2, tickets: 0, blocked: { reason: "chargeback fraud" } });

    expect((await api<Profile>("POST", "/users/ann/unblock", { token: admin })).body.blocked).toBeNull();
    const free = await api<{ status: string }>("POST", "/orders", {
      token: ann,
      body: { eventId: "show", items: [{ categoryId: "free", quantity: 2 }] },
    });
    expect([free.status, free.body.status]).toEqual([201, "paid"]);
    expect((await api("GET", "/users/nobody", { token: admin })).status).toBe(404);
  });

  test("REPL: users find <text> and user <id>", async () => {
    const found = await eventually(
      () => usersFindCommand(app.broker, "ann.new"),
      (out) => out.includes("ann"),
    );
    expect(found).toMatch(/^ID\s+NAME\s+E-MAIL\s+PHONE/);
    expect(found).toMatch(/ann\s+Ann Lee\s+ann\.new@example\.com\s+\+79001234567/);
    expect(await usersFindCommand(app.broker, "no-such-person")).toBe('no user matches "no-such-person"');
    // The counts come from the orders' and tickets' read models, which follow the log.
    const shown = await eventually(
      () => userCommand(app.broker, "ann"),
      (out) => /orders \/ tickets\s+3 \/ 2/.test(out),
    );
    expect(shown).toMatch(/blocked\s+no/);
  });

  test("without the users service, reading goes on and buying waits (503): a block cannot be checked", async () => {
    await app.broker.destroyService(app.broker.getLocalService("users")!);
    const carl = await issuer.mint({ sub: "carl", roles: ["customer"], email: "carl@example.com" });
    expect((await api("GET", "/me/orders", { token: carl })).status).toBe(200);
    const customer = { email: "carl@example.com", phone: "+79001112233" };
    const refused = await order(carl, { customer });
    expect([refused.status, refused.body.type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
    expect(refused.body.message).not.toMatch(/users/);

    app.broker.createService(SERVICE_FACTORIES.users(app.runtime));
    await app.broker.waitForServices("users", 10_000);
    // The gateway asks again about a subject it could not register.
    expect((await order(carl, { customer })).status).toBe(201);
    expect(await userEvents("carl")).toEqual(["UserRegistered"]);
  });
});
