import { randomUUID } from "node:crypto";
import { startApp, type App } from "../../lib/app/app";
import { SYSTEM } from "../../lib/app/context";
import { projectionsCommand } from "../../lib/repl/projections.command";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";
import { openShow } from "../support/show";

type Availability = Record<string, { available: number; capacity: number }>;

/** The sales side's stock, in the quick start: holds under contention, expiry, rebuilds. */
describe("inventory: holds under contention, durable expiry", () => {
  const env = quickStartEnv("inventory");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  const wonHolds: string[] = [];

  const hold = (requests: unknown[], expiresInMs = 15 * 60_000, customerKey = randomUUID()) =>
    app.broker.call(
      "inventory.hold",
      {
        eventId: "show",
        holdId: randomUUID(),
        orderId: randomUUID(),
        customerKey,
        requests,
        expiresAt: Date.now() + expiresInMs,
      },
      { meta: { user: SYSTEM } },
    );
  const availability = async () => (await api<{ availability: Availability | null }>("GET", "/events/show")).body.availability;

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    await openShow(api, await devIssuerOf(env));
  });
  afterAll(async () => app?.stop());

  test("the event page shows availability once the event is on sale", async () => {
    const shown = await eventually(availability, (a) => a?.ga?.available === 50);
    expect(shown).toEqual({ ga: { available: 50, capacity: 50 } });
  });

  test("200 concurrent buyers for 50 tickets: exactly 50 holds, everyone else hears SOLD_OUT", async () => {
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => hold([{ categoryId: "ga", quantity: 1 }])));
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(won).toHaveLength(50);
    for (const r of won as PromiseFulfilledResult<{ holdId: string }>[]) wonHolds.push(r.value.holdId);
    expect(new Set(lost.map((r) => (r.reason as { type: string }).type))).toEqual(new Set(["SOLD_OUT"]));
    expect(lost[0].reason.data).toMatchObject({ categoryId: "ga", available: 0 });
    expect(await eventually(availability, (a) => a?.ga?.available === 0)).toEqual({ ga: { available: 0, capacity: 50 } });
  });

  test("holds expire, even across a restart, and the tickets are on sale again", async () => {
    const stockBefore = (await availability())!.ga.available;
    expect(stockBefore).toBe(0);
    // Buyers give back what the previous test held (cancelled orders).
    for (const holdId of wonHolds) {
      await app.broker.call("inventory.release", { eventId: "show", holdId, reason: "cancelled" }, { meta: { user: SYSTEM } });
    }
    const before = await app.runtime.store.log("sales").head();
    await app.stop();
    app = await startApp({ ...env });
    api = apiClient(app.apiUrl!);
    expect(await app.runtime.store.log("sales").head()).toBe(before);
    expect(await eventually(availability, (a) => a?.ga?.available === 50)).toEqual({ ga: { available: 50, capacity: 50 } });
    for (let i = 0; i < 5; i++) await hold([{ categoryId: "ga", quantity: 1 }], 1500);
    expect(await eventually(availability, (a) => a?.ga?.available === 45)).toEqual({ ga: { available: 45, capacity: 50 } });
    await app.stop(); // the process dies with holds that have not expired yet
    app = await startApp({ ...env });
    api = apiClient(app.apiUrl!);
    const released = await eventually(availability, (a) => a?.ga?.available === 50, 15_000);
    expect(released!.ga.available).toBe(50);
  });

  test("a rebuild of the stock read model from zero gives the same numbers", async () => {
    await hold([{ categoryId: "ga", quantity: 3 }]);
    const live = await eventually(availability, (a) => a?.ga?.available === 47);
    await projectionsCommand(app.broker, { action: "rebuild", name: "sales.stock" });
    await eventually(
      () => projectionsCommand(app.broker, {}),
      (t) => /sales\.stock@g2\s+idle/.test(t) && !/sales\.stock@g1/.test(t),
    );
    expect(await availability()).toEqual(live);
  });
});
