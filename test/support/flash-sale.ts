import { randomUUID } from "node:crypto";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { MongoStore } from "../../lib/store/mongo/mongo-store";
import type { EventStockDoc } from "../../services/inventory/inventory.projection";
import type { Order } from "../../services/orders/orders.types";
import { apiClient, type ApiResponse } from "./api-client";
import { startCluster, type Cluster } from "./cluster";
import { loadInfra, mongoUriFor } from "./infra";
import { paymentStatus, type SaleLedger } from "./sale-invariants";
import { waitFor, WaitTimeout } from "./wait";

/**
 * The pieces of a flash sale over HTTP shared by the e2e tests: one hot event with general
 * admission and seats, buyers who behave like people (and like a well-behaved client), and a
 * watcher on the stock read model. The guarantees themselves are checked by
 * ./sale-invariants.ts once the sale is at rest.
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

/**
 * One request as a client sends it: a 503 ("retry in a moment", e.g. right after start, when
 * the gateway has not seen a service yet) is sent again, with the same Idempotency-Key, until
 * the bound. Returns the first other answer.
 */
function send<T = Record<string, unknown>>(
  api: Api,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const headers = { "idempotency-key": `setup-${randomUUID()}` };
  return waitFor(
    `${method} ${path} to answer something other than 503`,
    () => api<T>(method, path, { ...options, headers }),
    (r) => r.status !== 503,
    { timeoutMs: 60_000, intervalMs: 1000, show: (r) => ({ status: r.status, body: r.body }) },
  );
}

/** Organizer, a 500-seat hall, and the event "hot" with its two categories, on sale. */
export async function openHotSale(api: Api, issuer: DevIssuer, spec: SaleSpec): Promise<void> {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  expect((await send(api, "POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } })).status).toBe(201);
  const rows = Array.from({ length: 25 }, (_, r) => ({
    id: String(r + 1),
    seats: Array.from({ length: 20 }, (_, s) => String(s + 1)),
  }));
  const venue = {
    id: "arena",
    name: "Arena",
    address: "Prospekt 1",
    city: "Moscow",
    timezone: "Europe/Moscow",
    layout: { sections: [{ id: "H", name: "Hall", rows }] },
  };
  expect((await send(api, "POST", "/venues", { token: olga, body: venue })).status).toBe(201);
  const event = {
    id: HOT_EVENT,
    venueId: "arena",
    name: "Hot Show",
    category: "concert",
    startsAt: "2031-09-01T19:00:00+03:00",
    endsAt: "2031-09-01T22:00:00+03:00",
  };
  expect((await send(api, "POST", "/events", { token: olga, body: event })).status).toBe(201);
  const categories = [
    { categoryId: "ga", name: "GA", price: 300000, currency: "RUB", kind: "ga", quota: spec.ga },
    { categoryId: "seats", name: "Seats", price: 500000, currency: "RUB", kind: "seated", seats: spec.seats },
  ];
  for (const body of categories)
    expect((await send(api, "POST", `/events/${HOT_EVENT}/categories`, { token: olga, body })).status).toBe(201);
  expect((await send(api, "POST", `/events/${HOT_EVENT}/publish`, { token: olga })).status).toBe(200);
  await waitFor(
    `event ${HOT_EVENT}'s page to show ${spec.ga} GA tickets on sale`,
    () => api<{ availability: Record<string, { available: number }> | null }>("GET", `/events/${HOT_EVENT}`),
    (r) => r.body?.availability?.ga?.available === spec.ga,
    { timeoutMs: 60_000, show: (r) => ({ status: r.status, availability: r.body?.availability }) },
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
  /** Documents that showed the sale under way: something held, or some but not all sold. */
  readonly midSale: number;
  /** Stops watching after one last look; throws what the first bad observation broke. */
  stop(): Promise<void>;
}

/**
 * Looks at the stock read model every `everyMs` until stopped: in every category, at every
 * moment, held + sold + available = capacity with none of them negative.
 */
export function watchStock(stock: () => Promise<EventStockDoc | null>, everyMs = 100): StockWatch {
  let watching = true;
  let observations = 0;
  let midSale = 0;
  const look = async () => {
    const doc = await stock();
    const categories = Object.values(doc?.categories ?? {});
    for (const c of categories) {
      expect(c.available).toBeGreaterThanOrEqual(0);
      expect(c.held).toBeGreaterThanOrEqual(0);
      expect(c.sold).toBeGreaterThanOrEqual(0);
      expect(c.held + c.sold).toBeLessThanOrEqual(c.capacity);
      expect(c.held + c.sold + c.available).toBe(c.capacity);
    }
    observations++;
    if (categories.some((c) => c.held > 0 || (c.sold > 0 && c.sold < c.capacity))) midSale++;
  };
  const loop = (async () => {
    while (watching) {
      await look();
      await sleep(everyMs);
    }
    await look();
  })();
  // Kept until stop() so a failure is reported there, not as an unhandled rejection.
  loop.catch(() => undefined);
  return {
    get observations() {
      return observations;
    },
    get midSale() {
      return midSale;
    },
    async stop() {
      watching = false;
      await loop;
    },
  };
}

export interface SaleOutcome {
  /** Buyers who paid and got their tickets. */
  paid: number;
  declined: number;
  abandoned: number;
  /** Buyers who left with nothing because everything was sold. */
  leftSoldOut: number;
  /** 409 SOLD_OUT / SEAT_TAKEN / ORDER_CLOSED answers; the buyer tried again while tickets remained. */
  refusedPlaces: number;
  /** 503 answers the buyer rode out by sending the same request again after Retry-After. */
  busy: number;
  /** Payments refused after all (the hold had lapsed and the tickets had gone): the buyer tried again. */
  refused: number;
  /** Buyers who paid only once their order had expired (see runBuyers). */
  paidLate: number;
  /**
   * Paid for, but the order had not settled when the buyer stopped waiting: what they saw.
   * Slowness or a stranded payment: the check at rest tells which.
   */
  unsettled: string[];
  /** Answers where GET /orders/:id disagreed with the log about a settled order. */
  apiDisagrees: string[];
}

/** One answer to POST /orders, for what a test wants to say about when and how it came. */
export interface Answer {
  startedAt: number;
  ms: number;
  status: number;
  type?: string;
  /** Retry-After of a 503, in seconds; absent when the answer had none. */
  retryAfter?: number;
}

export interface BuyersOptions {
  api: Api;
  /** One bearer token per buyer; buyer i's fate (pay, decline, abandon) follows from offset + i. */
  tokens: string[];
  offset?: number;
  /** The write side, read by all buyers at once: the seat map, what is left, how orders settled. */
  ledger: SaleLedger;
  /** The buyers give up (and the test fails, saying what they were waiting for) after this. */
  timeoutMs: number;
  /** How long a buyer who paid waits for the order to settle before leaving (see SaleOutcome.unsettled). */
  settleTimeoutMs: number;
  /**
   * Requests in flight at most, all buyers together (a waiting room in front of the shop):
   * enough to keep the hot event's mailbox full, few enough that a busy two-core machine
   * answers them before the holds they take expire.
   */
  concurrency: number;
  /** Called as each POST /orders is sent, with the time it was sent. */
  onRequest?(startedAt: number): void;
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

/** The order, as far as the ledger has read, is no longer waiting for its payment. */
const settledIn = (order: Order | null) => !!order && order.status !== "awaiting_payment";

/** Runs at most `max` of the calls given to it at a time; the others queue, first come first served. */
function limiter(max: number): <T>(call: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (call) => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await call();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

interface Waiter {
  what: string;
  ready(): boolean;
  /** Waits for tickets to come back: woken a few at a time, not all at once. */
  forTickets: boolean;
  deadline: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * One reader of the sales log for all buyers: they wait on what the write side shows (tickets
 * back on sale, their order settled), never on the clock. Each wait is bounded and says what
 * it was for.
 */
class Market {
  private waiters: Waiter[] = [];
  private pumping: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(
    readonly ledger: SaleLedger,
    private readonly deadline: number,
  ) {}

  /** Ends every wait: a buyer hit something the test cannot go on from. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** The first failure, which the others only followed from. */
  failureOr(err: Error): Error {
    return this.failure ?? err;
  }

  check(): void {
    if (this.failure) throw this.failure;
    if (Date.now() > this.deadline) throw new Error(`the sale did not end in time; ${this.describe()}`);
  }

  until(what: string, ready: () => boolean, options: { timeoutMs?: number; forTickets?: boolean } = {}): Promise<void> {
    this.check();
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const deadline = Math.min(this.deadline, Date.now() + (options.timeoutMs ?? Infinity));
      this.waiters.push({ what, ready, forTickets: !!options.forTickets, deadline, resolve, reject });
      this.pumping ??= this.pump().finally(() => (this.pumping = null));
    });
  }

  /** Tickets on sale now, or the sale over for good. */
  ticketsOrOver(): boolean {
    return this.ledger.soldOut() || this.ledger.totals().available > 0;
  }

  describe(): string {
    const holds = this.ledger.holds();
    return `the log shows ${JSON.stringify(this.ledger.totals())}, ${holds.length} hold(s)${holds[0] ? `, the first expiring ${new Date(holds[0].expiresAt).toISOString()}` : ""}`;
  }

  private async pump(): Promise<void> {
    while (this.waiters.length > 0) {
      await this.ledger.refresh().catch(() => undefined);
      const now = Date.now();
      // Few tickets came back: wake a few of those waiting for them, the rest keep waiting.
      let wakeForTickets = this.ledger.soldOut() ? Infinity : 2 * this.ledger.totals().available + 2;
      const keep: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.ready() && (!w.forTickets || wakeForTickets-- > 0)) w.resolve();
        else if (now > w.deadline)
          w.reject(new WaitTimeout(w.what, null, `waited for ${w.what} until the bound; ${this.describe()}`));
        else keep.push(w);
      }
      this.waiters = keep;
      if (this.waiters.length > 0) await sleep(150);
    }
  }
}

/**
 * Buyers over HTTP. Everyone tries at once (the flash sale); a buyer who finds nothing left
 * waits until tickets come back (abandoned and refused holds expire) and tries again, until
 * the sale is over for good. A buyer takes a seat when two in five of them prefer one or when
 * general admission is gone, choosing from the seat map. When the service answers 503 the buyer
 * sends the same request again (same Idempotency-Key) after Retry-After, as a client should,
 * and never gives up on it. Of those who get an order, one in ten abandons it, one in ten
 * declines the payment, one in ten pays only once the order has expired (the payment that
 * arrives after the hold lapsed, made to happen rather than left to a slow machine), and the
 * rest pay at once on the simulator's checkout page; all of them wait for their tickets, and
 * when the payment is refused after all (the tickets had gone to someone else), they try again
 * and pay at once.
 */
export async function runBuyers(options: BuyersOptions): Promise<SaleResult> {
  const { api, tokens, ledger } = options;
  const offset = options.offset ?? 0;
  const market = new Market(ledger, Date.now() + options.timeoutMs);
  const outcome: SaleOutcome = {
    paid: 0,
    declined: 0,
    abandoned: 0,
    leftSoldOut: 0,
    refusedPlaces: 0,
    busy: 0,
    refused: 0,
    paidLate: 0,
    unsettled: [],
    apiDisagrees: [],
  };
  const placedBy = new Map<number, Placed>();
  const answers: Answer[] = [];

  const inFlight = limiter(options.concurrency);
  const placeOrder = async (i: number, body: unknown) => {
    const headers = { "idempotency-key": `buy-${randomUUID()}` };
    for (let attempt = 0; ; attempt++) {
      market.check();
      // Timed from when the request is sent, not from when it joined the waiting room.
      let startedAt = 0;
      const res: ApiResponse<Placed & { type?: string }> = await inFlight(() => {
        startedAt = Date.now();
        options.onRequest?.(startedAt);
        return api("POST", "/orders", { token: tokens[i], body, headers });
      });
      const retryAfter = res.headers.get("retry-after");
      answers.push({
        startedAt,
        ms: Date.now() - startedAt,
        status: res.status,
        type: res.body?.type,
        ...(retryAfter === null ? {} : { retryAfter: Number(retryAfter) }),
      });
      if (res.status !== 503) return res;
      outcome.busy++;
      // Retry-After says when; a client backs off further the longer it has been refused.
      const base = Math.max(1000 * Number(retryAfter ?? 1), Math.min(8000, 250 * 2 ** attempt));
      await sleep(base * (0.5 + Math.random()));
    }
  };

  /** What a buyer asks for now, from the seat map; null when nothing is left to ask for. */
  const choose = (i: number) => {
    const ga = ledger.categories().find((c) => c.categoryId === "ga");
    const free = ledger.freeSeats("seats");
    const wantsSeat = (i + offset) % 5 < 2;
    const seatId = free.length > 0 && (wantsSeat || !ga?.available) ? free[Math.floor(Math.random() * free.length)] : null;
    if (!seatId && !ga?.available) return null;
    return {
      eventId: HOT_EVENT,
      customer: { email: `buyer${i + offset}@example.com`, phone: `+7900${String(i + offset).padStart(7, "0")}` },
      ...(seatId ? { seats: [{ categoryId: "seats", seatId }] } : { items: [{ categoryId: "ga", quantity: 1 }] }),
    };
  };

  /** After paying: true once the order is paid, false once the payment was refused. */
  const settled = async (i: number, placed: Placed): Promise<boolean | null> => {
    const order = () => ledger.order(placed.id);
    try {
      await market.until(`order ${placed.id} to settle after its payment`, () => settledIn(order()), {
        timeoutMs: options.settleTimeoutMs,
      });
      // Expired first: the payment may still be taken (tickets free) or cancelled (they are not).
      if (order()?.status === "expired") {
        await waitFor(
          `expired order ${placed.id}: its payment captured with tickets, or cancelled`,
          async () => {
            await ledger.refresh();
            return { order: order()?.status, payment: await paymentStatus(placed.payment) };
          },
          (s) => s.order !== "expired" || s.payment === "canceled",
          { timeoutMs: options.settleTimeoutMs, intervalMs: 500 },
        );
      }
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err;
      outcome.unsettled.push(`buyer ${i + offset}: ${err.message}`);
      return null;
    }
    const status = order()!.status;
    const seen = await api<{ status: string }>("GET", `/orders/${placed.id}`, { token: tokens[i] });
    // A 503 (a busy node) says nothing about the order; any other answer must agree with the log.
    if (seen.status !== 503 && seen.body?.status !== status)
      outcome.apiDisagrees.push(
        `order ${placed.id}: the log says ${status}, the API answered ${seen.status} ${JSON.stringify(seen.body)}`,
      );
    return status === "paid";
  };

  const buyer = async (i: number): Promise<void> => {
    let paidLate = false;
    for (;;) {
      // A read that failed leaves the ledger a moment behind: good enough to choose from.
      await ledger.refresh().catch(() => undefined);
      if (ledger.soldOut()) {
        outcome.leftSoldOut++;
        return;
      }
      const body = choose(i);
      if (!body) {
        await market.until("tickets back on sale, or the sale over", () => market.ticketsOrOver(), { forTickets: true });
        continue;
      }
      const seenAt = ledger.position;
      const res = await placeOrder(i, body);
      if (res.status === 409 && ["SOLD_OUT", "SEAT_TAKEN", "ORDER_CLOSED"].includes(res.body?.type ?? "")) {
        outcome.refusedPlaces++;
        // Ask again once the log has moved on (what was refused may be committed by then).
        await market.until("the sales log to move on after a refusal", () => ledger.position > seenAt || ledger.soldOut(), {
          forTickets: true,
        });
        continue;
      }
      if (res.status !== 201)
        throw new Error(`buyer ${i + offset}: POST /orders answered ${res.status} ${JSON.stringify(res.body)}`);
      placedBy.set(i + offset, res.body);
      const fate = (i + offset) % 10;
      if (fate === 0) {
        outcome.abandoned++;
        return;
      }
      const action = fate === 1 ? "decline" : "pay";
      if (fate === 2 && !paidLate) {
        // Pays only after the order expired: the payment lands after the hold was given up,
        // every time, not when the machine happens to be slow.
        paidLate = true;
        outcome.paidLate++;
        await market.until(`order ${res.body.id} to expire unpaid`, () => settledIn(ledger.order(res.body.id)), {
          timeoutMs: options.settleTimeoutMs,
        });
      }
      const form = await fetch(`${res.body.payment.confirmationUrl}/${action}`, { method: "POST", redirect: "manual" });
      // Too late: the order expired first and its payment was cancelled with it (409 on the
      // page), as a person would meet it; that buyer tries again.
      if (action === "pay" && form.status === 409) {
        outcome.refused++;
        continue;
      }
      if (form.status >= 400) throw new Error(`buyer ${i + offset}: the checkout page answered ${form.status} to ${action}`);
      if (action === "decline") {
        outcome.declined++;
        return;
      }
      const served = await settled(i, res.body);
      if (served === null) return;
      if (served) {
        outcome.paid++;
        return;
      }
      outcome.refused++;
    }
  };

  const results = await Promise.allSettled(
    tokens.map((_, i) =>
      buyer(i).catch((err: Error) => {
        market.fail(err);
        throw err;
      }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw market.failureOr(failed.reason as Error);
  return { outcome, placedBy, answers };
}

interface ReadyBody {
  status: string;
  problems?: string[];
  nodes: Array<{ nodeID: string; runners: Array<{ runner: string; name: string; state: string; lag: number }> }>;
}

/**
 * For waitForRest: null once every runner of every node has caught up with the log (and, with
 * `requireReady`, the cluster reports ready), else what is still behind.
 */
export function readSideCaughtUp(api: Api, adminToken: string, requireReady = false): () => Promise<string | null> {
  return async () => {
    // Runner details are for admins only.
    const ready = await api<ReadyBody>("GET", "/ready", { token: adminToken });
    const behind = (ready.body?.nodes ?? []).flatMap((n) =>
      n.runners.filter((r) => r.lag > 0).map((r) => `${n.nodeID}/${r.name} ${r.lag} behind`),
    );
    if (!ready.body?.nodes) return `GET /ready answered ${ready.status}`;
    if (behind.length) return behind.join(", ");
    if (requireReady && ready.body.status !== "ready") return `${ready.body.status}: ${(ready.body.problems ?? []).join("; ")}`;
    return null;
  };
}

/** Kinds of answers to POST /orders ("201", "409 SOLD_OUT", ...) and how many of each. */
export function answerKinds(answers: Answer[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const a of answers) {
    const kind = `${a.status} ${a.type ?? ""}`.trim();
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/**
 * What a buyer may be told: an order, a refusal of the places asked for, or "try again" (503
 * with Retry-After, a type a client can act on); nothing else (no 404, 500, 504).
 */
export function unexpectedAnswers(answers: Answer[]): Answer[] {
  return answers.filter((a) => {
    if (a.status === 201) return false;
    if (a.status === 409) return !["SOLD_OUT", "SEAT_TAKEN", "ORDER_CLOSED"].includes(a.type ?? "");
    if (a.status === 503) return !["BUSY", "HOLD_EXPIRED", "SERVICE_UNAVAILABLE"].includes(a.type ?? "") || !(a.retryAfter! > 0);
    return true;
  });
}
