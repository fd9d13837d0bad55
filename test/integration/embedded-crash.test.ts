import { rmSync } from "node:fs";
import { LOGS } from "../../lib/app/runtime";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import type { ReadDoc } from "../../lib/eventlog/projection";
import type { Commit } from "../../lib/eventlog/types";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import type { Order } from "../../services/orders/orders.types";
import type { EventStockDoc } from "../../services/inventory/inventory.projection";
import { eventStockId } from "../../services/inventory/inventory.projection";
import { apiClient } from "../support/api-client";
import { startNode, stopNode, tail, type ClusterNode } from "../support/cluster";
import { freePort } from "../support/free-port";
import { noAcknowledgements, startLoad, type Acknowledged, type RoundFigures, type SaleEvent } from "../support/crash-load";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { differenceFromRebuild, liveGeneration, readWholeLog } from "../support/read-model-check";
import { READ_MODELS } from "../support/read-models";
import { allOrders, PaymentBook, SaleLedger, saleViolations } from "../support/sale-invariants";
import { waitFor } from "../support/wait";

const KILLS = 10;
const BUYERS = 16;
/** Buyers at once: enough to keep writes flowing on a two-core machine. */
const CONCURRENCY = 12;
/** Short, so holds lapse during the rounds and the sale comes to rest soon after the last one. */
const HOLD_TTL_SECONDS = 8;
/** A killed process keeps its leases: the next one takes them over after this. */
const LEASE_MS = 3000;
/** Rows of 20 places: seats of row 1 are sold one by one, the rest is the floor. */
const ROWS = 11;
const seats = (n: number) => Array.from({ length: n }, (_, i) => `B:1:${i + 1}`);
/** A big sale that lasts all rounds, and a small one that sells out and lives on what comes back. */
const EVENTS: SaleEvent[] = [
  { id: "big", ga: { categoryId: "floor", quota: 200 }, seated: { categoryId: "balcony", seats: seats(10) } },
  { id: "small", ga: { categoryId: "floor", quota: 6 }, seated: { categoryId: "balcony", seats: seats(4) } },
];
const BOOT_TIMEOUT_MS = 90_000;
/**
 * Money only, left out of "at rest" as in saga-crash.test.ts: the in-process payment simulator
 * saves its state just after it answers, so a kill can make it forget a capture; the refund of
 * that payment then waits (parked) for a capture that never comes. Stock and orders do not wait on it.
 */
const MONEY_BACK = "sales.refunds";

/**
 * The quick start (one process, the embedded store) SIGKILLed ten times in a row while buyers
 * place, pay, cancel and refund orders at once, restarted on the same data directory each time.
 * Then, from the store itself: every read model equals a rebuild from its log, every event's
 * sold count equals the tickets of its paid orders, and nothing the clients were told is lost.
 */
describe("embedded store: SIGKILL during heavy writes, ten times in a row", () => {
  const env = quickStartEnv("crash", {
    HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
    RUNNER_LEASE_MS: String(LEASE_MS),
    RATE_LIMIT_PER_MINUTE: "0",
  });
  let node: ClusterNode | null = null;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let passed = false;
  let admin = "";
  let organizer = "";
  let buyers: string[] = [];
  /** The projection runners the product reported last. */
  let reported: string[] = [];
  const acks: Acknowledged = noAcknowledgements();
  const exited = (n: ClusterNode) => n.process.exitCode !== null || n.process.signalCode !== null;

  /** Starts the quick start on the data directory and waits until it says it can serve. */
  async function boot(): Promise<ClusterNode> {
    const started = startNode("crash", env);
    node = started;
    await waitFor(
      "the quick start to answer GET /ready with 200",
      () => fetch(`${env.PUBLIC_URL}/api/ready`).then((r) => r.status),
      (status) => status === 200,
      { timeoutMs: BOOT_TIMEOUT_MS, abandon: () => (exited(started) ? `it exited\n${tail(started)}` : null) },
    );
    return started;
  }

  async function kill(victim: ClusterNode): Promise<void> {
    const gone = new Promise<void>((resolve) => victim.process.once("exit", () => resolve()));
    victim.process.kill("SIGKILL");
    await gone;
  }

  /** The store as the last process left it; nothing else may have it open meanwhile. */
  async function withStore<T>(use: (store: EmbeddedStore) => Promise<T>): Promise<T> {
    const store = await EmbeddedStore.open({ dataDir: env.DATA_DIR, logs: [...LOGS] });
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    Object.assign(env, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    api = apiClient(`${env.PUBLIC_URL}/api`);
    issuer = await devIssuerOf(env);
  });

  afterAll(async () => {
    if (node && !passed) console.log(tail(node, 60));
    if (node) await stopNode(node, "SIGKILL");
    // Kept for a look when the test failed.
    if (passed) rmSync(env.DATA_DIR, { recursive: true, force: true });
    else console.log(`data directory kept: ${env.DATA_DIR}`);
  }, 30_000);

  test("every read model equals a rebuild from the log; sold == tickets of paid orders; nothing acknowledged is lost", async () => {
    admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    organizer = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    buyers = await Promise.all(Array.from({ length: BUYERS }, (_, i) => issuer.mint({ sub: `buyer-${i}`, roles: ["customer"] })));

    await boot();
    await openSales(api, admin, organizer);

    const rounds: Array<RoundFigures & { killAfter: number }> = [];
    for (let round = 1; round <= KILLS; round++) {
      const victim = round === 1 ? node! : await boot();
      const load = startLoad({ api, buyers, organizer, events: EVENTS, acks, concurrency: CONCURRENCY });
      // Writes are flowing once a few orders went through; the kill then comes at a random moment.
      const killAfter = 6 + Math.floor(Math.random() * 12);
      await waitFor(
        `${killAfter} orders accepted in round ${round}`,
        async () => load.accepted,
        (n) => n >= killAfter,
        {
          timeoutMs: 90_000,
          abandon: () => (exited(victim) ? `the process exited by itself\n${tail(victim)}` : null),
        },
      ).catch((err: Error) => {
        load.stop();
        throw err;
      });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 500));
      // Checked and killed in the same tick: requests are in flight when the process dies.
      await waitFor(
        "a request in flight",
        async () => load.inFlight,
        (n) => n > 0,
        { timeoutMs: 30_000, intervalMs: 2 },
      );
      load.stop();
      await kill(victim);
      const figures = await load.done;
      rounds.push({ ...figures, killAfter });
      expect({ round, signal: victim.process.signalCode }).toEqual({ round, signal: "SIGKILL" });
      expect(figures.inFlightAtKill).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ rounds, acknowledged: figures(acks) }));

    // Straight after the last kill, before any restart: every acknowledged write is in the log,
    // and no read model shows an event its checkpoint has not passed (documents and checkpoint
    // are committed together, so the tail is applied once, not again over its own effects).
    await withStore(async (store) => {
      expect(lostAcknowledgements(acks, await allOrders(store))).toEqual([]);
      expect(await documentsAheadOfCheckpoint(store)).toEqual([]);
    });

    // Up to the log's tail, which the kill may have left unapplied: the product catches up and
    // stops cleanly. A sweep may still write as it stops; then it catches up once more.
    let behind: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const last = await boot();
      await waitFor(
        "the sale at rest: runners caught up, nothing held, no order awaiting payment",
        restReport,
        (r) => r === null,
        {
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );
      // A read model the list lacks would go unchecked.
      expect(reported).toEqual(READ_MODELS.map((p) => p.name).sort());
      await stopNode(last);
      // Not killed by stopNode's fallback: the stores were closed.
      expect({ signal: last.process.signalCode, exitCode: last.process.exitCode }).toEqual({ signal: null, exitCode: 0 });
      node = null;
      behind = await withStore((store) => projectionsBehind(store));
      if (behind.length === 0) break;
    }
    expect(behind).toEqual([]);

    await withStore(async (store) => {
      const logs = new Map<string, Commit[]>();
      for (const name of LOGS) logs.set(name, await readWholeLog(store.log(name)));

      // 1. Every read model, whole, equals the log applied from zero.
      const differences: string[] = [];
      for (const projection of READ_MODELS) {
        const difference = await differenceFromRebuild(store, projection, logs.get(projection.log)!);
        if (difference) differences.push(difference);
      }
      expect(differences).toEqual([]);

      // 2. Per event, from the log: sold == tickets of paid orders, no seat sold twice; the read model agrees.
      const sales = logs.get("sales")!;
      const eventIds = [...new Set(sales.filter((c) => c.stream.startsWith("inventory-")).map((c) => c.stream.slice(10)))];
      expect(eventIds.sort()).toEqual(EVENTS.map((e) => e.id).sort());
      const stock = store.collection<EventStockDoc>(
        (
          await liveGeneration(
            store,
            READ_MODELS.find((p) => p.name === "sales.stock")!,
          )
        ).collection,
      );
      const sold: Array<Record<string, unknown>> = [];
      const violations: string[] = [];
      for (const eventId of eventIds) {
        const ledger = new SaleLedger(store, eventId);
        await ledger.refresh();
        const doc = await stock.get(eventStockId(eventId));
        const paid = ledger.orders().filter((o) => o.status === "paid");
        for (const c of ledger.categories()) {
          const tickets = paid.flatMap((o) => o.tickets).filter((t) => t.categoryId === c.categoryId).length;
          sold.push({ eventId, category: c.categoryId, sold: c.sold, readModel: doc?.categories[c.categoryId]?.sold, tickets });
        }
        const inventorySeats = [...ledger.sales().values()].flatMap((lines) => [...lines.values()].flatMap((l) => l.seats));
        if (new Set(inventorySeats).size !== inventorySeats.length)
          violations.push(`${eventId}: a seat is in two sales: ${inventorySeats.sort().join(",")}`);
        // The provider's side is not asked: the simulator's payments live in the process's memory and file.
        violations.push(
          ...saleViolations(ledger, new PaymentBook(), { atRest: true, stock: doc }).violations.map((v) => `${eventId}: ${v}`),
        );
      }
      console.log(JSON.stringify({ sold }));
      expect(sold.filter((s) => s.sold !== s.tickets || s.readModel !== s.sold)).toEqual([]);
      expect(violations).toEqual([]);
      expect(sold.some((s) => (s.sold as number) > 0)).toBe(true);

      // 3. Nothing acknowledged was lost, after the restart either.
      expect(lostAcknowledgements(acks, await allOrders(store))).toEqual([]);
    });
    passed = true;
  }, 420_000);

  /** Null once the product is at rest, else what still moves. */
  async function restReport(): Promise<string | null> {
    const ready = await api<{
      status: string;
      problems: string[];
      parked: string[];
      nodes: Array<{ runners: Array<{ runner: string; kind: string; state: string; lag: number }> }>;
    }>("GET", "/ready", { token: admin });
    if (!ready.body?.nodes) return `GET /ready answered ${ready.status}`;
    const runners = ready.body.nodes.flatMap((n) => n.runners);
    reported = [...new Set(runners.filter((r) => r.kind === "projection").map((r) => r.runner))].sort();
    const moving = runners
      .filter((r) => r.lag > 0 || !["running", "idle"].includes(r.state))
      .map((r) => `${r.runner} ${r.state} lag ${r.lag}`);
    const held: string[] = [];
    for (const e of EVENTS) {
      const sales = await api<{ totals: { held: number } }>("GET", `/events/${e.id}/sales`, { token: organizer });
      if (sales.status !== 200 || sales.body.totals.held !== 0)
        held.push(`${e.id}: ${sales.status} ${JSON.stringify(sales.body?.totals)}`);
    }
    const awaiting: string[] = [];
    for (const token of buyers) {
      for (let page = 1; ; page++) {
        const mine = await api<{ rows: Array<{ id: string; status: string }>; totalPages: number }>(
          "GET",
          `/me/orders?page=${page}&pageSize=100`,
          { token },
        );
        if (mine.status !== 200) return `GET /me/orders answered ${mine.status}`;
        awaiting.push(...mine.body.rows.filter((o) => o.status === "awaiting_payment").map((o) => o.id));
        if (page >= mine.body.totalPages) break;
      }
    }
    const still = [
      ...ready.body.problems,
      ...ready.body.parked.filter((line) => !line.startsWith(`subscription ${MONEY_BACK}:`)),
      ...moving,
      ...held.map((h) => `held ${h}`),
      ...(awaiting.length ? [`${awaiting.length} order(s) awaiting payment, e.g. ${awaiting[0]}`] : []),
    ];
    return still.length ? still.join(", ") : null;
  }
});

/** The organizer, a hall, and the events on sale with their categories. */
async function openSales(api: ReturnType<typeof apiClient>, admin: string, organizer: string): Promise<void> {
  const ok = async (method: string, path: string, token: string, body?: unknown) => {
    const answer = await api(method, path, { token, body });
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  await ok("POST", "/organizers", admin, { id: "org", name: "Org" });
  const rows = Array.from({ length: ROWS }, (_, r) => ({
    id: String(r + 1),
    seats: Array.from({ length: 20 }, (_, s) => String(s + 1)),
  }));
  await ok("POST", "/venues", organizer, {
    id: "hall",
    name: "Hall",
    address: "Arbat 1",
    city: "Moscow",
    timezone: "Europe/Moscow",
    layout: { sections: [{ id: "B", name: "Hall", rows }] },
  });
  for (const e of EVENTS) {
    const event = {
      id: e.id,
      venueId: "hall",
      name: e.id,
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    };
    await ok("POST", "/events", organizer, event);
    const ga = { categoryId: e.ga.categoryId, name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota: e.ga.quota };
    const seated = {
      categoryId: e.seated.categoryId,
      name: "Balcony",
      price: 250000,
      currency: "RUB",
      kind: "seated",
      seats: e.seated.seats,
    };
    await ok("POST", `/events/${e.id}/categories`, organizer, ga);
    await ok("POST", `/events/${e.id}/categories`, organizer, seated);
    await ok("POST", `/events/${e.id}/publish`, organizer);
  }
  for (const e of EVENTS)
    await waitFor(
      `event ${e.id}'s page to show its tickets on sale`,
      () => api<{ availability: Record<string, { available: number }> | null }>("GET", `/events/${e.id}`),
      (r) => r.body?.availability?.[e.ga.categoryId]?.available === e.ga.quota,
      { timeoutMs: 60_000, show: (r) => ({ status: r.status, availability: r.body?.availability }) },
    );
}

/** Read models whose live generation has not applied its whole log. */
async function projectionsBehind(store: EmbeddedStore): Promise<string[]> {
  const behind: string[] = [];
  for (const projection of READ_MODELS) {
    const head = await store.log(projection.log).head();
    const { checkpoint, collection } = await liveGeneration(store, projection);
    if (checkpoint !== head) behind.push(`${projection.name} (${collection}) at ${checkpoint}, its log at ${head}`);
  }
  return behind;
}

/**
 * Read-model documents that reflect a log position past their read model's checkpoint. (A
 * projection that queries mid-batch commits what it has so far first: catalogue.events on a
 * venue's or organizer's change, which this sale never makes.)
 */
async function documentsAheadOfCheckpoint(store: EmbeddedStore): Promise<string[]> {
  const ahead: string[] = [];
  for (const projection of READ_MODELS) {
    const { checkpoint, collection } = await liveGeneration(store, projection);
    const docs = await store.collection<ReadDoc>(collection).find({ _pos: { $gt: checkpoint ?? 0 } });
    if (docs.length)
      ahead.push(
        `${projection.name}: ${docs.length} document(s) past checkpoint ${checkpoint}, e.g. ${docs[0]._id} at ${docs[0]._pos}`,
      );
  }
  return ahead;
}

/** Each thing a client was told that the log does not show. */
function lostAcknowledgements(acks: Acknowledged, orders: Order[]): string[] {
  const byId = new Map(orders.map((o) => [o.id, o]));
  const status = (id: string) => byId.get(id)?.status ?? "missing";
  return [
    ...[...acks.placed.keys()].filter((id) => !byId.has(id)).map((id) => `order ${id} was placed (201) but is not in the log`),
    ...[...acks.closed]
      .filter(([id, answered]) => status(id) !== answered)
      .map(([id, answered]) => `order ${id}: its cancellation answered ${answered}, the log says ${status(id)}`),
    ...[...acks.paid]
      .filter((id) => !["paid", "refunded"].includes(status(id)))
      .map((id) => `order ${id} was shown paid, the log says ${status(id)}`),
    ...[...acks.refunded]
      .filter(([id, answered]) => status(id) !== answered)
      .map(([id, answered]) => `order ${id}: its refund answered ${answered}, the log says ${status(id)}`),
  ];
}

function figures(acks: Acknowledged) {
  return { placed: acks.placed.size, closed: acks.closed.size, paid: acks.paid.size, refunded: acks.refunded.size };
}
