import { randomUUID } from "node:crypto";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { fold } from "../../lib/eventlog/decider";
import type { Commit } from "../../lib/eventlog/types";
import { MongoStore } from "../../lib/store/mongo/mongo-store";
import { availability, inventoryDecider } from "../../services/inventory/inventory.decider";
import type { EventStockDoc } from "../../services/inventory/inventory.projection";
import { inventoryStream, SALES_LOG } from "../../services/inventory/inventory.types";
import { orderDecider } from "../../services/orders/orders.decider";
import type { Order } from "../../services/orders/orders.types";
import { apiClient, eventually, type ApiResponse } from "./api-client";
import { startCluster, type Cluster } from "./cluster";
import { loadInfra, mongoUriFor } from "./infra";

/**
 * The pieces of a flash sale over HTTP shared by the e2e tests: one hot event with general
 * admission and seats, buyers who retry like people do, a watcher on the stock read model, and
 * the invariants checked once everything has settled.
 */

type Api = ReturnType<typeof apiClient>;

export const HOT_EVENT = "hot";

/** Seat ids of the hall, 20 to a row: H:1:1 ... H:1:20, H:2:1 ... */
export function seatIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `H:${Math.floor(i / 20) + 1}:${(i % 20) + 1}`);
}

export interface SaleSpec {
  /** General admission quota. */
  ga: number;
  /** Seats of the seated category (see seatIds); at most 500. */
  seats: string[];
}

export interface Placed {
  id: string;
  payment: { id: string; confirmationUrl: string };
}

/** Organizer, a 500-seat hall, and the event "hot" with its two categories, on sale. */
export async function openHotSale(api: Api, issuer: DevIssuer, spec: SaleSpec): Promise<void> {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  expect((await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } })).status).toBe(201);
  const rows = Array.from({ length: 25 }, (_, r) => ({
    id: String(r + 1),
    seats: Array.from({ length: 20 }, (_, s) => String(s + 1)),
  }));
  expect(
    (
      await api("POST", "/venues", {
        token: olga,
        body: {
          id: "arena",
          name: "Arena",
          address: "Prospekt 1",
          city: "Moscow",
          timezone: "Europe/Moscow",
          layout: { sections: [{ id: "H", name: "Hall", rows }] },
        },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await api("POST", "/events", {
        token: olga,
        body: {
          id: HOT_EVENT,
          venueId: "arena",
          name: "Hot Show",
          category: "concert",
          startsAt: "2031-09-01T19:00:00+03:00",
          endsAt: "2031-09-01T22:00:00+03:00",
        },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await api("POST", `/events/${HOT_EVENT}/categories`, {
        token: olga,
        body: { categoryId: "ga", name: "GA", price: 300000, currency: "RUB", kind: "ga", quota: spec.ga },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await api("POST", `/events/${HOT_EVENT}/categories`, {
        token: olga,
        body: { categoryId: "seats", name: "Seats", price: 500000, currency: "RUB", kind: "seated", seats: spec.seats },
      })
    ).status,
  ).toBe(201);
  expect((await api("POST", `/events/${HOT_EVENT}/publish`, { token: olga })).status).toBe(200);
  await eventually(
    () => api<{ availability: Record<string, { available: number }> | null }>("GET", `/events/${HOT_EVENT}`),
    (r) => r.body.availability?.ga?.available === spec.ga,
    20_000,
  );
}

export interface SaleCluster {
  cluster: Cluster;
  api: Api;
  /** The cluster's database, for the read model and the invariants. */
  store: MongoStore;
  /** Stops the processes and drops the database. */
  stop(): Promise<void>;
}

/**
 * The distributed sale: `nodes` (name -> SERVICES) as processes over NATS, on a fresh MongoDB
 * database and namespace named `${name}_<run>` / `${name}-<run>`, with holds of `holdTtlMs`.
 */
export async function startSaleCluster(nodes: Record<string, string>, name: string, holdTtlMs: number): Promise<SaleCluster> {
  const infra = loadInfra(["nats", "mongo"]);
  const run = randomUUID().slice(0, 8);
  const uri = mongoUriFor(`${name}_${run}`);
  const cluster = await startCluster(nodes, {
    TRANSPORTER: infra.natsUrl,
    NAMESPACE: `${name}-${run}`,
    MONGO_URI: uri,
    RUNNER_POLL_MS: "100",
    RATE_LIMIT_PER_MINUTE: "0",
    HOLD_TTL_SECONDS: String(holdTtlMs / 1000),
  });
  const store = await MongoStore.open({ uri }).catch(async (err: unknown) => {
    await cluster.stop();
    throw err;
  });
  return {
    cluster,
    api: apiClient(cluster.apiUrl),
    store,
    async stop() {
      await cluster.stop();
      await store.connection.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

/** The hot event's stock as the read model shows it. */
export function stockOf(store: MongoStore): () => Promise<EventStockDoc | null> {
  return () => store.collection<EventStockDoc>("stock_g1").get(`event:${HOT_EVENT}`);
}

export interface StockWatch {
  /** Documents looked at so far. */
  readonly observations: number;
  /** Stops watching; throws what the first bad observation broke. */
  stop(): Promise<void>;
}

/**
 * Looks at the stock read model every `everyMs` until stopped: in every category, at every
 * moment, held + sold + available = capacity with none of them negative.
 */
export function watchStock(stock: () => Promise<EventStockDoc | null>, everyMs = 100): StockWatch {
  let watching = true;
  let observations = 0;
  const loop = (async () => {
    while (watching) {
      const doc = await stock();
      for (const c of Object.values(doc?.categories ?? {})) {
        expect(c.available).toBeGreaterThanOrEqual(0);
        expect(c.held).toBeGreaterThanOrEqual(0);
        expect(c.sold).toBeGreaterThanOrEqual(0);
        expect(c.held + c.sold).toBeLessThanOrEqual(c.capacity);
        expect(c.held + c.sold + c.available).toBe(c.capacity);
      }
      observations++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  // Kept until stop() so a failure is reported there, not as an unhandled rejection.
  loop.catch(() => undefined);
  return {
    get observations() {
      return observations;
    },
    async stop() {
      watching = false;
      await loop;
    },
  };
}

export interface SaleOutcome {
  paid: number;
  declined: number;
  abandoned: number;
  soldOut: number;
  seatTaken: number;
  /** Answers the buyer retried after a pause (see BuyersOptions.retryable). */
  busy: number;
  /** Payments refused after all: the hold had lapsed and its tickets were sold to someone else. */
  refused: number;
}

/** One answer to POST /orders, for what a test wants to say about when and how it came. */
export interface Answer {
  startedAt: number;
  ms: number;
  status: number;
  type?: string;
}

export interface BuyersOptions {
  api: Api;
  /** One bearer token per buyer. */
  tokens: string[];
  seats: string[];
  stock: () => Promise<EventStockDoc | null>;
  /** HOLD_TTL_SECONDS of the cluster, in ms: when abandoned holds come back. */
  holdTtlMs: number;
  /** Answers after which the buyer tries the same request again after a pause; any 503 by default. */
  retryable?(res: ApiResponse<{ type?: string }>): boolean;
  /**
   * After paying, the buyer waits to see the order paid; when the payment was refused after all
   * (it settled after the hold had lapsed and the tickets had gone to someone else), they try
   * again, as a person would. Off, a buyer who paid is done.
   */
  retryRefusedPayments?: boolean;
}

export interface SaleResult {
  outcome: SaleOutcome;
  placedBy: Map<number, Placed>;
  answers: Answer[];
}

/** How long POST /orders took, by percentile, in ms. */
export function latencies(answers: Answer[]): { p50: number; p95: number; max: number } {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), max: ms[ms.length - 1] ?? 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Buyers over HTTP, in rounds: everyone tries; those who lost try again after holds were
 * released. A buyer takes a seat when general admission is gone, picks seats from a seat map
 * that shows what they learned is taken, as people do, and when the service asks them to
 * retry does so after a growing pause, with the same Idempotency-Key, as a client should.
 * Of those who get an order, one in ten abandons it, one in ten declines the payment, and the
 * rest pay on the simulator's checkout page.
 */
export async function runBuyers(options: BuyersOptions): Promise<SaleResult> {
  const { api, tokens, seats, stock, holdTtlMs } = options;
  const retryable = options.retryable ?? ((res) => res.status === 503);
  const outcome: SaleOutcome = { paid: 0, declined: 0, abandoned: 0, soldOut: 0, seatTaken: 0, busy: 0, refused: 0 };
  const placedBy = new Map<number, Placed>();
  const answers: Answer[] = [];

  let gaGone = false;
  const taken = new Set<string>();
  const pickSeat = () => {
    const free = seats.filter((s) => !taken.has(s));
    return (free.length ? free : seats)[Math.floor(Math.random() * (free.length || seats.length))];
  };
  const placeOrder = async (i: number, body: unknown) => {
    const headers = { "idempotency-key": `buy-${randomUUID()}` };
    for (let attempt = 0; ; attempt++) {
      const startedAt = Date.now();
      const res = await api<Placed & { type?: string }>("POST", "/orders", { token: tokens[i], body, headers });
      answers.push({ startedAt, ms: Date.now() - startedAt, status: res.status, type: res.body?.type });
      if (!retryable(res)) return res;
      outcome.busy++;
      await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random()));
    }
  };
  const tryBuy = async (i: number): Promise<"done" | "retry"> => {
    const seatId = i % 5 < 2 || gaGone ? pickSeat() : null;
    const body = {
      eventId: HOT_EVENT,
      customer: { email: `buyer${i}@example.com`, phone: `+7900${String(i).padStart(7, "0")}` },
      ...(seatId ? { seats: [{ categoryId: "seats", seatId }] } : { items: [{ categoryId: "ga", quantity: 1 }] }),
    };
    const res = await placeOrder(i, body);
    if (res.status === 409) {
      if (res.body.type === "SEAT_TAKEN") {
        outcome.seatTaken++;
        if (seatId) taken.add(seatId);
      } else if (res.body.type === "SOLD_OUT") {
        outcome.soldOut++;
        gaGone = true;
      } else if (res.body.type === "ORDER_CLOSED") {
        // Its hold lapsed while the request queued (4-second holds on a loaded machine).
        outcome.busy++;
      } else throw new Error(`buyer ${i}: POST /orders answered 409 ${JSON.stringify(res.body)}`);
      return "retry";
    }
    if (res.status !== 201) throw new Error(`buyer ${i}: POST /orders answered ${res.status} ${JSON.stringify(res.body)}`);
    placedBy.set(i, res.body);
    if (seatId) taken.add(seatId);
    const fate = i % 10;
    if (fate === 0) {
      outcome.abandoned++;
      if (seatId) setTimeout(() => taken.delete(seatId), holdTtlMs + 500);
      return "done";
    }
    if (fate === 1 && seatId) taken.delete(seatId);
    const action = fate === 1 ? "decline" : "pay";
    const form = await fetch(`${res.body.payment.confirmationUrl}/${action}`, { method: "POST", redirect: "manual" });
    // Too late on a busy machine: the order expired first and its payment was cancelled with it (409 on the page).
    if (action === "pay" && form.status === 409 && options.retryRefusedPayments) {
      outcome.refused++;
      return "retry";
    }
    expect(form.status).toBeLessThan(400);
    if (action === "pay") outcome.paid++;
    else outcome.declined++;
    if (action === "pay" && options.retryRefusedPayments && !(await servedAfterPaying(api, tokens[i], res.body))) {
      outcome.refused++;
      return "retry";
    }
    return "done";
  };

  let pending = Array.from({ length: tokens.length }, (_, i) => i);
  for (let round = 0; round < 30 && pending.length > 0; round++) {
    const results = await Promise.all(pending.map(async (i) => [i, await tryBuy(i)] as const));
    pending = results.filter(([, r]) => r === "retry").map(([i]) => i);
    const current = await stock();
    const categories = Object.values(current?.categories ?? {});
    if (categories.reduce((n, c) => n + c.available + c.held, 0) === 0) break;
    // Abandoned holds come back when they expire; otherwise try again at once.
    const waiting = categories.some((c) => c.held > 0) && categories.every((c) => c.available === 0);
    await sleep(waiting ? holdTtlMs + 500 : 200);
  }
  return { outcome, placedBy, answers };
}

const SIMULATOR_AUTH = `Basic ${Buffer.from("simulator-shop:simulator-secret").toString("base64")}`;

/** The payment as the YooKassa simulator (in the process that created it) sees it. */
async function paymentStatus(placed: Placed): Promise<string> {
  const simulatorApi = placed.payment.confirmationUrl.replace(/\/checkout\/.*$/, "/v3");
  const res = await fetch(`${simulatorApi}/payments/${placed.payment.id}`, { headers: { authorization: SIMULATOR_AUTH } });
  return ((await res.json()) as { status: string }).status;
}

/**
 * Waits until a paid order is settled: true once it is paid; false once the payment was
 * refused (the order cancelled, or expired with its authorisation cancelled).
 */
async function servedAfterPaying(api: Api, token: string, placed: Placed): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  let status = "";
  while (Date.now() < deadline) {
    status = (await api<{ status: string }>("GET", `/orders/${placed.id}`, { token })).body.status;
    if (status === "paid") return true;
    if (status === "cancelled") return false;
    if (status === "expired" && (await paymentStatus(placed)) === "canceled") return false;
    await sleep(500);
  }
  throw new Error(`order ${placed.id} was paid for but is still ${status} after 120 s`);
}

interface ReadyBody {
  status: string;
  problems?: string[];
  nodes: Array<{ nodeID: string; runners: Array<{ runner: string; name: string; state: string; lag: number }> }>;
}

/**
 * Waits until every payment in flight has settled: no holds, every runner caught up, three
 * times in a row.
 */
export async function waitUntilSettled(
  api: Api,
  stock: () => Promise<EventStockDoc | null>,
  options: { adminToken: string; timeoutMs?: number; requireReady?: boolean },
): Promise<void> {
  let quiet = 0;
  let lastReport = "";
  await eventually(
    async () => {
      const [ready, doc] = await Promise.all([api<ReadyBody>("GET", "/ready", { token: options.adminToken }), stock()]);
      const caughtUp = ready.body.nodes.every((n) => n.runners.every((r) => r.lag === 0));
      const noHolds = !!doc && Object.values(doc.categories).every((c) => c.held === 0);
      const healthy = !options.requireReady || ready.body.status === "ready";
      quiet = caughtUp && noHolds && healthy ? quiet + 1 : 0;
      lastReport = JSON.stringify({
        status: ready.body.status,
        problems: ready.body.problems,
        behind: ready.body.nodes.flatMap((n) => n.runners.filter((r) => r.lag > 0)),
        held: doc && Object.values(doc.categories).map((c) => c.held),
      });
      await sleep(300);
      return quiet;
    },
    (q) => q >= 3,
    options.timeoutMs ?? 60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; ${lastReport}`);
  });
}

/** Every order in the sales log, whether or not its buyer ever heard of it. */
export async function allOrders(store: MongoStore): Promise<Order[]> {
  const log = store.log(SALES_LOG);
  const streams = new Map<string, Commit[]>();
  for (let after = 0; ;) {
    const commits = await log.readFrom(after, 1000);
    if (commits.length === 0) break;
    for (const commit of commits) {
      if (!commit.stream.startsWith("order-")) continue;
      const stream = streams.get(commit.stream);
      if (stream) stream.push(commit);
      else streams.set(commit.stream, [commit]);
    }
    after = commits[commits.length - 1].pos;
  }
  const orders: Order[] = [];
  for (const commits of streams.values()) {
    const order = fold(orderDecider, orderDecider.initialState(), commits);
    if (order) orders.push(order);
  }
  return orders;
}

export interface SettledSale {
  sold: number;
  orders: number;
  paidOrders: number;
  tickets: number;
  /** Orders with a payment, by "order status/payment status". */
  statuses: Record<string, number>;
}

/**
 * The write side and the payment provider, once the sale is over and everything settled:
 * never more sold than there is, no seat or barcode twice, a ticket for every sale, every paid
 * order has its tickets, and money was captured exactly for the orders that have tickets.
 */
export async function checkSettledSale(
  store: MongoStore,
  options: { capacity: number; placed: Iterable<Placed>; soldOut: boolean },
): Promise<SettledSale> {
  const log = store.log(SALES_LOG);
  const inventory = fold(inventoryDecider, inventoryDecider.initialState(), await log.readStream(inventoryStream(HOT_EVENT)));
  const soldTotal = availability(inventory).reduce((n, c) => n + c.sold, 0);
  expect(soldTotal).toBeLessThanOrEqual(options.capacity);

  const orders = await allOrders(store);
  const known = new Set(orders.map((o) => o.id));
  for (const placed of options.placed) expect(known.has(placed.id)).toBe(true);
  const paidOrders = orders.filter((o) => o.status === "paid");
  const tickets = paidOrders.flatMap((o) => o.tickets);
  expect(tickets).toHaveLength(soldTotal);
  const seats = tickets.filter((t) => t.seatId).map((t) => t.seatId);
  expect(new Set(seats).size).toBe(seats.length);
  expect(new Set(tickets.map((t) => t.barcode)).size).toBe(tickets.length);
  for (const o of paidOrders) expect(o.tickets.length).toBe(o.lines.reduce((n, l) => n + l.quantity, 0));

  // Payments, as the provider sees them: captured exactly for the orders that have tickets.
  const withPayment = orders.filter((o) => o.payment);
  expect(withPayment.length).toBeGreaterThan(0);
  const statuses: Record<string, number> = {};
  for (const o of withPayment) {
    const payment = await paymentStatus({ id: o.id, payment: o.payment! });
    statuses[`${o.status}/${payment}`] = (statuses[`${o.status}/${payment}`] ?? 0) + 1;
    if (payment === "succeeded") {
      expect(o.status).toBe("paid");
      expect(o.tickets.length).toBeGreaterThan(0);
    }
    if (o.status === "paid") expect(payment).toBe("succeeded");
    if (o.status === "expired" || o.status === "cancelled") expect(payment).not.toBe("succeeded");
  }
  if (options.soldOut) expect(soldTotal).toBe(options.capacity);
  return { sold: soldTotal, orders: orders.length, paidOrders: paidOrders.length, tickets: tickets.length, statuses };
}
