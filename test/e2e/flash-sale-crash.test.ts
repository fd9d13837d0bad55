import type { MongoStore } from "../../lib/store/mongo/mongo-store";
import { startNode, stopNode, tail, type Cluster } from "../support/cluster";
import {
  checkSettledSale,
  latencies,
  openHotSale,
  runBuyers,
  seatIds,
  startSaleCluster,
  stockOf,
  waitUntilSettled,
  watchStock,
  type SaleCluster,
  type StockWatch,
} from "../support/flash-sale";
import { devIssuerOf } from "../support/quickstart";

const BUYERS = 600;
const GA = 180;
const SEATS = seatIds(120);
const CAPACITY = GA + SEATS.length;
const HOLD_TTL_MS = 4000;
/** How long the sale goes on with no inventory process at all. */
const OUTAGE_MS = 4000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The distributed flash sale with the inventory (the hot aggregates' mailboxes) in a process of
 * its own, killed with SIGKILL a third of the way into the sale and started again a few seconds
 * later, while buyers keep buying and paying.
 */
describe("flash sale over NATS with the inventory process killed mid-sale", () => {
  let sale: SaleCluster;
  let cluster: Cluster;
  let api: SaleCluster["api"];
  let store: MongoStore;
  let watch: StockWatch | null = null;
  /** The kill and the restart, beside the buyers; ended early (see `until`) if the test fails. */
  let crash: Promise<void> = Promise.resolve();
  let ending = false;

  /** Polls until `ok`; gives up when the test is over, so nothing starts a node after afterAll. */
  async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ending) throw new Error(`the test ended while waiting for ${what}`);
      const value = await probe();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
      await sleep(100);
    }
  }

  beforeAll(async () => {
    sale = await startSaleCluster(
      {
        gateway: "api,runners",
        catalogue: "organizers,artists,venues,events,runners",
        sales: "orders,tickets,runners",
        // The runners service only reports this process's runners (readiness).
        inventory: "inventory,runners",
      },
      "crash",
      HOLD_TTL_MS,
    );
    ({ cluster, api, store } = sale);
  }, 90_000);

  afterAll(async () => {
    ending = true;
    await crash.catch(() => undefined);
    await watch?.stop().catch(() => undefined);
    await sale?.stop();
  }, 30_000);

  test(`${BUYERS} buyers for ${CAPACITY} tickets; the inventory is SIGKILLed and restarted mid-sale`, async () => {
    const issuer = await devIssuerOf(cluster.env);
    await openHotSale(api, issuer, { ga: GA, seats: SEATS });
    const stock = stockOf(store);
    watch = watchStock(stock);
    const tokens = await Promise.all(
      Array.from({ length: BUYERS }, (_, i) => issuer.mint({ sub: `buyer-${i}`, roles: ["customer"] })),
    );
    const admin = await issuer.mint({ sub: "ops", roles: ["admin"] });

    const timeline: Record<string, number> = {};
    const probes: Array<{ what: string; status: number; ms: number }> = [];
    const probe = async (what: string, request: () => Promise<{ status: number }>) => {
      const started = Date.now();
      const { status } = await request();
      probes.push({ what, status, ms: Date.now() - started });
    };
    crash = (async () => {
      const taken = (doc: Awaited<ReturnType<typeof stock>>) =>
        Object.values(doc?.categories ?? {}).reduce((n, c) => n + c.held + c.sold, 0);
      const atKill = await until(stock, (doc) => taken(doc) >= CAPACITY / 3, 60_000, "a third of the tickets taken");
      const index = cluster.nodes.findIndex((n) => n.name === "inventory");
      const old = cluster.nodes[index];
      timeline.takenAtKill = taken(atKill);
      timeline.killedAt = Date.now();
      await stopNode(old, "SIGKILL");
      timeline.observationsAtKill = watch!.observations;
      // The rest of the cluster goes on without it: the event page and a buyer's orders answer.
      const others = Promise.all([
        probe("event page", () => api("GET", "/events/hot")),
        probe("my orders", () => api("GET", "/me/orders", { token: tokens[1] })),
      ]);
      await sleep(OUTAGE_MS);
      const fresh = startNode(old.name, old.env);
      cluster.nodes[index] = fresh;
      timeline.restartedAt = Date.now();
      timeline.observationsAtRestart = watch!.observations;
      await until(
        () => api<{ nodes: Array<{ nodeID: string }> }>("GET", "/ready", { token: admin }),
        (r) => r.body.nodes.some((n) => n.nodeID === "inventory"),
        60_000,
        "the inventory back",
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${tail(fresh)}`);
      });
      timeline.backAt = Date.now();
      await others;
    })();

    // A buyer may be told to come back later (503, the same request again after a pause), and
    // nothing else: no 404, no 500, no gateway timeout. One who paid while the inventory was
    // gone may see the payment refused (the hold lapsed meanwhile): they try again.
    const { outcome, placedBy, answers } = await runBuyers({
      api,
      tokens,
      seats: SEATS,
      stock,
      holdTtlMs: HOLD_TTL_MS,
      retryable: (res) => res.status === 503,
      retryRefusedPayments: true,
    });
    timeline.buyersDoneAt = Date.now();
    await crash;
    await waitUntilSettled(api, stock, { adminToken: admin, timeoutMs: 90_000, requireReady: true });
    timeline.settledAt = Date.now();
    await watch.stop();
    const sold = await stock();

    const kinds: Record<string, number> = {};
    for (const a of answers) kinds[`${a.status} ${a.type ?? ""}`.trim()] = (kinds[`${a.status} ${a.type ?? ""}`.trim()] ?? 0) + 1;
    const during = answers.filter((a) => a.startedAt < timeline.backAt && a.startedAt + a.ms > timeline.killedAt);
    const relative = Object.fromEntries(
      Object.entries(timeline).map(([k, v]) => [k, k.endsWith("At") ? v - timeline.killedAt : v]),
    );
    console.log(
      JSON.stringify({
        kinds,
        ms: latencies(answers),
        outage: { answers: during.length, ms: latencies(during) },
        probes,
        timeline: relative,
      }),
    );

    // The kill came mid-sale, and the sale went on through it.
    expect(timeline.takenAtKill).toBeLessThan(CAPACITY);
    expect(during.length).toBeGreaterThan(0);
    // What buyers were told: 503 only (BUSY from a full mailbox, HOLD_EXPIRED when a 4-second hold
    // lapsed while the request queued, SERVICE_UNAVAILABLE while the
    // inventory was gone), and "unavailable" only for requests made while it was gone.
    for (const a of answers.filter((a) => a.status === 503))
      expect(["BUSY", "SERVICE_UNAVAILABLE", "HOLD_EXPIRED"]).toContain(a.type);
    for (const a of answers.filter((a) => a.type === "SERVICE_UNAVAILABLE")) expect(during).toContain(a);
    // Nobody waited forever: at worst the gateway's timeout, retried (4 x 10 s), and some slack.
    expect(latencies(answers).max).toBeLessThan(60_000);
    // The other services answered while the inventory was gone, within the gateway's 10 s timeout.
    for (const p of probes) {
      expect(p.status).toBe(200);
      expect(p.ms).toBeLessThan(9000);
    }
    // The watcher saw the whole sale, after the restart too.
    expect(timeline.observationsAtRestart - timeline.observationsAtKill).toBeGreaterThan(5);
    expect(watch.observations - timeline.observationsAtRestart).toBeGreaterThan(5);

    const settled = await checkSettledSale(store, { capacity: CAPACITY, placed: placedBy.values(), soldOut: true });
    expect(Object.values(sold!.categories).reduce((n, c) => n + c.sold, 0)).toBe(CAPACITY);
    expect(watch.observations).toBeGreaterThan(5);
    console.log(JSON.stringify({ ...outcome, ...settled, observations: watch.observations }));
  }, 300_000);
});
