import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { queueCommand, refusal } from "../../lib/repl/queue.command";
import type { PlaceAnswer } from "../../services/waiting-room/waiting-room.service";
import { apiClient, type ApiResponse } from "../support/api-client";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { openShow } from "../support/show";
import { waitFor } from "../support/wait";

type Place = PlaceAnswer;

type Availability = Record<string, { available: number; capacity: number }>;

const PRE = Array.from({ length: 30 }, (_, i) => `pre-${String(i).padStart(2, "0")}`);
const LATE = ["late-0", "late-1", "late-2", "late-3", "late-4"];
const TICKETS = 5;
const WAIT = { timeoutMs: 60_000, intervalMs: 200 };

/**
 * The waiting room in the quick start, over real HTTP: the pre-queue drawn at random, first
 * come first served after the start, admission tokens, sold out and reopening, restarts.
 */
jest.setTimeout(120_000);

describe("waiting room", () => {
  const env = quickStartEnv("waiting-room");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let olga: string;
  const tokens = new Map<string, string>();
  const customer = { email: "buyer@example.com", phone: "+79001234567" };

  const as = async (sub: string) => {
    if (!tokens.has(sub)) tokens.set(sub, await issuer.mint({ sub, roles: ["customer"] }));
    return tokens.get(sub)!;
  };
  const join = async (sub: string, eventId = "show") => api<Place>("POST", `/events/${eventId}/queue`, { token: await as(sub) });
  const place = async (sub: string, eventId = "show") => api<Place>("GET", `/events/${eventId}/queue`, { token: await as(sub) });
  const configure = (body: Record<string, unknown>, eventId = "show") =>
    api<Record<string, unknown>>("PUT", `/events/${eventId}/waiting-room`, { token: olga, body });
  const buy = async (sub: string, admissionToken?: string, eventId = "show") =>
    api<{ id: string; status: string; type?: string; message?: string; data?: { reason?: string } }>("POST", "/orders", {
      token: await as(sub),
      body: { eventId, items: [{ categoryId: "ga", quantity: 1 }], customer, ...(admissionToken ? { admissionToken } : {}) },
    });
  const positions = async (subs: string[]) => Promise.all(subs.map(async (s) => (await place(s)).body.position));
  const restart = async () => {
    await app.stop();
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
  };
  const status = () =>
    app.broker.call<{ opened: boolean; admitted: number; soldOut: boolean }, { eventId: string }>("waitingRoom.status", {
      eventId: "show",
    });

  /** A second event of the same organizer, GA category "ga" of `quota`, on sale. */
  const otherEvent = async (id: string, quota = 10) => {
    const body = {
      id,
      venueId: "hall",
      name: id,
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    };
    expect((await api("POST", "/events", { token: olga, body })).status).toBe(201);
    const category = { categoryId: "ga", name: "GA", price: 100000, currency: "RUB", kind: "ga", quota };
    expect((await api("POST", `/events/${id}/categories`, { token: olga, body: category })).status).toBe(201);
    expect((await api("POST", `/events/${id}/publish`, { token: olga })).status).toBe(200);
    await waitFor(
      `${id} on sale`,
      () => api<{ availability: Availability | null }>("GET", `/events/${id}`),
      (r) => r.body.availability?.ga?.available === quota,
      WAIT,
    );
  };

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    await openShow(api, issuer, TICKETS);
    await otherEvent("plain");
    await otherEvent("second");
    await waitFor(
      "show on sale",
      () => api<{ availability: Availability | null }>("GET", "/events/show"),
      (r) => r.body.availability?.ga?.available === TICKETS,
      WAIT,
    );
  }, 120_000);
  afterAll(async () => app?.stop());

  test("bad settings are refused naming the field, and change nothing; no room means no queue", async () => {
    const opensAt = new Date(Date.now() + 3_600_000).toISOString();
    const zero = await configure({ opensAt, rate: 0 });
    expect(zero.status).toBe(422);
    expect(JSON.stringify(zero.body.data)).toContain('"field":"rate"');
    const fast = await configure({ opensAt, rate: "fast" });
    expect(fast.status).toBe(422);
    expect(JSON.stringify(fast.body.data)).toContain('"field":"rate"');
    const notADate = await configure({ opensAt: "next friday", rate: 10 });
    expect(notADate.status).toBe(400);
    expect(notADate.body).toMatchObject({ type: "VALIDATION", data: { field: "opensAt" } });
    expect((await configure({ opensAt, rate: 10 }, "nowhere")).status).toBe(404);
    const bob = await issuer.mint({ sub: "bob-organizer", roles: ["organizer"], organizerId: "another-org" });
    expect((await api("PUT", "/events/show/waiting-room", { token: bob, body: { opensAt, rate: 10 } })).status).toBe(403);
    expect((await api<{ waitingRoom: unknown }>("GET", "/events/show")).body.waitingRoom).toBeNull();

    expect((await join("early")).body).toMatchObject({ type: "NO_WAITING_ROOM" });
    expect((await join("early")).status).toBe(409);
    expect((await join("early", "nowhere")).status).toBe(404);
  });

  test("joins before the start form a pre-queue drawn at random, kept across a restart; one place per account", async () => {
    // The start far ahead, so every join lands before it, whatever the machine's speed.
    const set = await configure({ opensAt: new Date(Date.now() + 3_600_000).toISOString(), rate: 1 });
    expect(set.status).toBe(200);
    expect(set.body.waitingRoom).toMatchObject({ rate: 1 });
    for (const sub of PRE) expect((await join(sub)).status).toBe(200);
    // The same account joining again, in parallel: the same place, no new one.
    const repeats = await Promise.all(Array.from({ length: 8 }, () => join(PRE[0])));
    for (const r of repeats) expect(r.body).toMatchObject({ status: "waiting", preQueue: true, position: null });
    expect((await place(PRE[5])).body).toMatchObject({ status: "waiting", preQueue: true, position: null, ahead: null });
    expect(await queueCommand(app.broker, { eventId: "show" })).toMatch(/length\s+30\n\s+pre-queue\s+30/);

    await restart();
    expect((await place(PRE[7])).body).toMatchObject({ status: "waiting", preQueue: true });

    // The start is now: the pre-queue is ordered by the keys drawn at its joins.
    expect((await configure({ opensAt: new Date().toISOString(), rate: 1 })).status).toBe(200);
    await waitFor("the queue to open", status, (s) => s.opened, WAIT);
    const drawn = await positions(PRE);
    expect([...drawn].sort((a, b) => a! - b!)).toEqual(PRE.map((_, i) => i + 1));
    expect(drawn).not.toEqual(PRE.map((_, i) => i + 1));

    // After the start: first come, first served, behind the pre-queue.
    for (const sub of LATE) await join(sub);
    expect(await positions(LATE)).toEqual([31, 32, 33, 34, 35]);

    await restart();
    expect(await positions(PRE)).toEqual(drawn);
    expect(await positions(LATE)).toEqual([31, 32, 33, 34, 35]);
  });

  test("the first places are admitted with a token; orders need it for this event only", async () => {
    const byPosition = new Map((await positions(PRE)).map((p, i) => [p!, PRE[i]]));
    const first = byPosition.get(1)!;
    const admitted = await waitFor(
      "the first place admitted",
      () => place(first),
      (r) => r.body.status === "admitted",
      WAIT,
    );
    expect(admitted.body).toMatchObject({ position: 1, ahead: 0, admission: { token: expect.any(String) } });
    expect(admitted.body.admission!.expiresAt).toBeGreaterThan(Date.now());
    const token = admitted.body.admission!.token;

    const later = await place(byPosition.get(20)!);
    expect(later.body).toMatchObject({ status: "waiting", position: 20, preQueue: false });
    expect(later.body.ahead).toBeGreaterThan(0);
    expect(later.body.estimatedWaitSec).toBeGreaterThan(0);
    expect(later.body.retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(later.body.admission).toBeUndefined();

    expect((await buy(first)).body).toMatchObject({ type: "ADMISSION_REQUIRED" });
    const stolen = await buy(byPosition.get(20)!, token);
    expect(stolen.status).toBe(403);
    expect(stolen.body.type).toBe("ADMISSION_INVALID");
    const expired = app.runtime.admissions.issue("show", first, Date.now() - 1000);
    expect((await buy(first, expired)).body).toMatchObject({ type: "ADMISSION_INVALID", data: { reason: "expired" } });
    // The token of one event's room is not an admission to another's.
    await configure({ opensAt: new Date().toISOString(), rate: 5 }, "second");
    expect((await buy(first, token, "second")).body).toMatchObject({ type: "ADMISSION_INVALID" });
    // An event without a room sells as before.
    expect((await buy(first, undefined, "plain")).status).toBe(201);

    const order = await buy(first, token);
    expect(order.status).toBe(201);
    expect(order.body.status).toBe("awaiting_payment");
  });

  test("admissions stop when nothing is left to hold (waiters hear sold out) and resume when a hold is released", async () => {
    const order = new Map((await positions([...PRE, ...LATE])).map((p, i) => [p!, [...PRE, ...LATE][i]]));
    const orders: string[] = [];
    // Positions 2..5 are admitted in turn (one per second) and buy the rest.
    for (let p = 2; p <= TICKETS; p++) {
      const sub = order.get(p)!;
      const admitted = await waitFor(
        `place ${p} admitted`,
        () => place(sub),
        (r) => r.body.status === "admitted",
        WAIT,
      );
      const bought = await buy(sub, admitted.body.admission!.token);
      expect(bought.status).toBe(201);
      orders.push(bought.body.id);
    }
    await waitFor(
      "the waiting told sold out",
      () => place(order.get(30)!),
      (r) => r.body.status === "sold_out",
      WAIT,
    );
    // The first place still waiting (on a slow machine one more than the tickets may have been admitted).
    let next = "";
    for (let p = TICKETS + 1; !next; p++) if ((await place(order.get(p)!)).body.status === "sold_out") next = order.get(p)!;
    const admittedBefore = (await status()).admitted;

    const cancelled = await api("POST", `/orders/${orders[0]}/cancel`, { token: await as(order.get(2)!) });
    expect(cancelled.status).toBe(200);
    const admitted = await waitFor(
      "the next place admitted after the release",
      () => place(next),
      (r) => r.body.status === "admitted",
      WAIT,
    );
    expect(admitted.body.admission?.token).toEqual(expect.any(String));
    expect((await status()).admitted).toBeGreaterThan(admittedBefore);
    expect((await place(order.get(30)!)).body.status).toBe("waiting");

    // Nobody was admitted twice: one place per account, a watermark that only grew.
    const commits = await app.runtime.store.log("waiting").readStream("queue-show");
    const events = commits.flatMap((c) => c.events);
    const joined = events.filter((e) => e.type === "PlaceTaken").map((e) => (e.data as { sub: string }).sub);
    expect(new Set(joined).size).toBe(joined.length);
    const marks = events.filter((e) => e.type === "PlacesAdmitted").map((e) => (e.data as { upTo: number }).upTo);
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    expect(new Set(marks).size).toBe(marks.length);
  });

  test("REPL: queue <eventId> shows the figures; queue <eventId> rate changes the rate through the event", async () => {
    const shown = await queueCommand(app.broker, { eventId: "show" });
    expect(shown).toMatch(/length\s+35/);
    expect(shown).toMatch(/pre-queue\s+0/);
    expect(Number(/admitted\s+(\d+)/.exec(shown)?.[1])).toBeGreaterThan(TICKETS);
    expect(shown).toMatch(/rate\s+1\/s/);
    expect(await queueCommand(app.broker, { eventId: "show", action: "rate", value: "7" })).toContain("7/s");
    expect((await api<{ waitingRoom: { rate: unknown } }>("GET", "/events/show")).body.waitingRoom.rate).toBe(7);
    expect(await queueCommand(app.broker, { eventId: "show", action: "rate", value: "auto" })).toContain("auto");
    expect(await queueCommand(app.broker, { eventId: "show" })).toMatch(/rate\s+auto \(effective \d+\/s\)/);
    expect(await queueCommand(app.broker, { eventId: "show", action: "speed" })).toContain("usage");
    const zero = await queueCommand(app.broker, { eventId: "show", action: "rate", value: "0" }).catch(refusal);
    expect(zero).toContain("'rate'");
    expect((await api<{ waitingRoom: { rate: unknown } }>("GET", "/events/show")).body.waitingRoom.rate).toBe("auto");
  });

  test("a removed room lets orders through without a token", async () => {
    expect((await api("DELETE", "/events/show/waiting-room", { token: olga })).status).toBe(200);
    const sub = "after-room";
    const res: ApiResponse<{ type?: string }> = await buy(sub);
    expect(res.body.type).not.toBe("ADMISSION_REQUIRED");
    // The queue's node learns of the change at once, or within a second should the wake-up be lost.
    await waitFor(
      "joining refused",
      () => join(sub),
      (r) => r.status === 409,
      WAIT,
    );
  });
});
