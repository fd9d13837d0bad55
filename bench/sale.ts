/**
 * What the sale benchmarks share: one event in one hall (seats and general admission) opened
 * through the API, a buyer per ticket wanted, and the buyers on a thread of their own.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Session } from "node:inspector";
import type { apiClient } from "../test/support/api-client";
import type { DevIssuer } from "../lib/auth/dev-issuer";
import type { Order } from "../services/orders/orders.types";
import type { SaleLedger } from "../test/support/sale-invariants";
import { waitFor, WaitTimeout } from "../test/support/wait";
import type { BuyerRequest, BuyersData, BuyersResult } from "./buyers.worker";
import { runWorker } from "./load/worker-thread";

export const BENCH_EVENT = "e";

export interface BenchSale {
  tickets: number;
  /** Seated tickets: the rest is general admission. */
  seats: number;
  seatIds: string[];
}

/** Organizer, hall, event, both categories, on sale, and its page showing the stock. */
export async function openBenchSale(api: ReturnType<typeof apiClient>, issuer: DevIssuer, tickets: number, seatShare = 0.4) {
  const seats = Math.floor(tickets * seatShare);
  const ga = tickets - seats;
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const seatIds = Array.from({ length: seats }, (_, i) => `H:${Math.floor(i / 50) + 1}:${(i % 50) + 1}`);
  const rows = Array.from({ length: Math.max(1, Math.ceil(tickets / 50)) }, (_, r) => ({
    id: String(r + 1),
    seats: Array.from({ length: 50 }, (_, s) => String(s + 1)),
  }));
  await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } });
  await api("POST", "/venues", {
    token: olga,
    body: {
      id: "v",
      name: "Arena",
      address: "Prospekt 1",
      city: "Moscow",
      timezone: "Europe/Moscow",
      layout: { sections: [{ id: "H", name: "Hall", rows }] },
    },
  });
  await api("POST", "/events", {
    token: olga,
    body: {
      id: BENCH_EVENT,
      venueId: "v",
      name: "Bench",
      category: "concert",
      startsAt: "2031-09-01T19:00:00+03:00",
      endsAt: "2031-09-01T22:00:00+03:00",
    },
  });
  await api("POST", `/events/${BENCH_EVENT}/categories`, {
    token: olga,
    body: { categoryId: "ga", name: "GA", price: 300000, currency: "RUB", kind: "ga", quota: ga },
  });
  if (seats)
    await api("POST", `/events/${BENCH_EVENT}/categories`, {
      token: olga,
      body: { categoryId: "seats", name: "Seats", price: 500000, currency: "RUB", kind: "seated", seats: seatIds },
    });
  await api("POST", `/events/${BENCH_EVENT}/publish`, { token: olga });
  await waitFor(
    `event ${BENCH_EVENT}'s page to show ${ga} GA tickets on sale`,
    () => api<{ availability: Record<string, { available: number }> | null }>("GET", `/events/${BENCH_EVENT}`),
    (ev) => ev.body?.availability?.ga?.available === ga,
    { timeoutMs: 60_000, show: (ev) => ({ status: ev.status, availability: ev.body?.availability }) },
  );
  return { tickets, seats, seatIds } satisfies BenchSale;
}

/** The buyer's e-mail address in the bench (one per buyer, so each receipt can be told apart). */
export function buyerEmail(i: number): string {
  return `b${i}@example.com`;
}

/** One order per buyer: two buyers in five want a seat, spread over the whole hall; the others one GA ticket. */
export async function buyerRequests(issuer: DevIssuer, sale: BenchSale, buyers: number): Promise<BuyerRequest[]> {
  const tokens = await Promise.all(Array.from({ length: buyers }, (_, i) => issuer.mint({ sub: `b${i}`, roles: ["customer"] })));
  return tokens.map((token, i) => {
    const seat = i % 5 < 2 && sale.seats ? sale.seatIds[(Math.floor(i / 5) * 2 + (i % 5)) % sale.seats] : null;
    const body = {
      eventId: BENCH_EVENT,
      customer: { email: buyerEmail(i), phone: `+7900${String(i).padStart(7, "0")}` },
      ...(seat ? { seats: [{ categoryId: "seats", seatId: seat }] } : { items: [{ categoryId: "ga", quantity: 1 }] }),
    };
    return { token, body };
  });
}

/** Every buyer orders at once, then those who got an order pay on the simulator's checkout page. */
export function runBuyerThread(
  apiUrl: string,
  requests: BuyerRequest[],
  pay = true,
  onReserved?: () => void,
): Promise<BuyersResult> {
  return runWorker<BuyersResult>("buyers.worker.ts", { apiUrl, requests, pay } satisfies BuyersData, (phase) => {
    if (phase === "reserved") onReserved?.();
  });
}

export async function startProfile(): Promise<{ stop(): Promise<object> }> {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<{ profile?: object }>((resolve, reject) =>
      session.post(method, (err, result) => (err ? reject(err) : resolve(result as { profile?: object }))),
    );
  await post("Profiler.enable");
  await post("Profiler.start");
  return { stop: async () => (await post("Profiler.stop")).profile! };
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1)) : 0;
}

/**
 * The ceiling of this machine for the same load: a minimal Node HTTP server (read the body,
 * answer a small JSON refusal) driven by the same buyers on their own thread. Requests per
 * second; every other figure can be read as a share of it.
 */
export async function bareCeiling(requests: BuyerRequest[]): Promise<{ requestsPerSec: number; p99Ms: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(409, { "content-type": "application/json" });
      res.end('{"type":"SOLD_OUT"}');
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const result = await runBuyerThread(`http://127.0.0.1:${port}/api`, requests, false);
    const ms = result.reserveMs.sort((a, b) => a - b);
    return {
      requestsPerSec: Math.round((requests.length / (result.reservedAt - result.startedAt)) * 1000),
      p99Ms: percentile(ms, 99),
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * Waits until the `expected` orders the buyers paid for (those `paidFor` picks) are settled:
 * paid, or closed because the payment came after the hold ran out. Returns how many are not
 * when `timeoutMs` runs out (0: all are), so an overloaded run still reports its figures.
 */
export async function settle(
  ledger: SaleLedger,
  paidFor: (order: Order) => boolean,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const unsettled = async () => {
    await ledger.refresh();
    const ours = ledger.orders().filter(paidFor);
    return expected - ours.length + ours.filter((order) => order.status === "awaiting_payment").length;
  };
  await waitFor(`the ${expected} orders paid for to settle`, unsettled, (left) => left <= 0, { timeoutMs, intervalMs: 50 }).catch(
    (err: unknown) => {
      if (!(err instanceof WaitTimeout)) throw err;
    },
  );
  return Math.max(0, await unsettled());
}
