/**
 * The part of the data set grown through the real services over HTTP: the catalogue (an
 * organizer, a hall, the archive events the history sells and the hot event the load buys
 * on) and paid orders, each placed by its buyer and paid on the YooKassa simulator's page.
 */
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient } from "../../test/support/api-client";
import { waitFor } from "../../test/support/wait";
import { percentile } from "../sale";

export const HOT_EVENT = "hot";
/** A venue holds 200,000 at most; the load places a few thousand orders. */
export const HOT_CAPACITY = 200_000;
/** The ticket category of every event: general admission, 2,500.00 RUB. */
export const CATEGORY = { categoryId: "floor", name: "Floor", price: 250000, currency: "RUB" };

export function archiveEventId(i: number): string {
  return `archive-${i + 1}`;
}

/** Who buys the n-th order of the data set (see buyerOf in history.ts for the rest). */
export function customerOf(n: number) {
  return {
    email: `buyer${n % 100_000}@example.com`,
    phone: `+7900${String(n % 10_000_000).padStart(7, "0")}`,
    firstName: "Anna",
  };
}

type Api = ReturnType<typeof apiClient>;

async function ok(api: Api, method: string, path: string, token: string, body?: unknown): Promise<void> {
  const answer = await api(method, path, { token, body });
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** The organizer, a hall, `archive` events of `capacity` tickets each and the hot event, all on sale. */
export async function openCatalogue(api: Api, issuer: DevIssuer, archive: number, capacity: number): Promise<void> {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  await ok(api, "POST", "/organizers", admin, { id: "org", name: "Org" });
  const venue = {
    id: "hall",
    name: "Hall",
    address: "Arbat 1",
    city: "Moscow",
    timezone: "Europe/Moscow",
    capacity: HOT_CAPACITY,
  };
  await ok(api, "POST", "/venues", olga, venue);
  const events = [
    ...Array.from({ length: archive }, (_, i) => ({ id: archiveEventId(i), capacity })),
    { id: HOT_EVENT, capacity: HOT_CAPACITY },
  ];
  for (const [i, { id, capacity: tickets }] of events.entries()) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    await ok(api, "POST", "/events", olga, {
      id,
      venueId: "hall",
      name: `Concert ${i + 1}`,
      category: "concert",
      startsAt: `2031-06-${day}T19:00:00+03:00`,
      endsAt: `2031-06-${day}T22:00:00+03:00`,
    });
    await ok(api, "POST", `/events/${id}/categories`, olga, { ...CATEGORY, kind: "ga", capacity: tickets });
    await ok(api, "POST", `/events/${id}/publish`, olga);
  }
  for (const { id, capacity: tickets } of events) {
    await waitFor(
      `event ${id}'s page to show its ${tickets} tickets on sale`,
      () => api<{ availability?: Record<string, { available: number }> }>("GET", `/events/${id}`),
      (r) => r.body?.availability?.[CATEGORY.categoryId]?.available === tickets,
      { timeoutMs: 120_000 },
    );
  }
}

export interface HttpSale {
  orders: number;
  elapsedMs: number;
  p50PlaceMs: number;
  p99PlaceMs: number;
}

/**
 * `orders` orders (n = first, first + 1, ...) placed by their buyers (`buyerOf(n)`) on the
 * archive events and paid on the simulator's page, `concurrency` at a time; returns once
 * every one of them shows as paid to its buyer.
 */
export async function sellOverHttp(
  api: Api,
  issuer: DevIssuer,
  range: { first: number; orders: number; archive: number; concurrency: number },
  buyerOf: (n: number) => string,
): Promise<HttpSale> {
  const tokens = new Map<string, string>();
  const tokenOf = async (sub: string) =>
    tokens.get(sub) ?? tokens.set(sub, await issuer.mint({ sub, roles: ["customer"] })).get(sub)!;
  const placeMs: number[] = [];
  const started = performance.now();
  let next = range.first;
  const end = range.first + range.orders;
  const worker = async () => {
    while (next < end) {
      const n = next++;
      const token = await tokenOf(buyerOf(n));
      const body = {
        eventId: archiveEventId(n % range.archive),
        customer: customerOf(n),
        items: [{ categoryId: CATEGORY.categoryId, quantity: 1 + (n % 2) }],
      };
      const t0 = performance.now();
      const placed = await api<{ payment?: { confirmationUrl: string } }>("POST", "/orders", { token, body });
      placeMs.push(performance.now() - t0);
      if (placed.status !== 201 || !placed.body.payment)
        throw new Error(`order ${n}: ${placed.status} ${JSON.stringify(placed.body)}`);
      const paid = await fetch(`${placed.body.payment.confirmationUrl}/pay`, { method: "POST", redirect: "manual" });
      await paid.arrayBuffer();
      if (paid.status >= 400) throw new Error(`order ${n}: the simulator answered ${paid.status} to the payment`);
    }
  };
  await Promise.all(Array.from({ length: range.concurrency }, worker));
  // Paid = the buyer sees it paid: the payment was captured and the tickets issued.
  const buyers = [...new Set(Array.from({ length: range.orders }, (_, i) => buyerOf(range.first + i)))];
  for (const sub of buyers) {
    const token = await tokenOf(sub);
    await waitFor(
      `the orders of ${sub} to be paid`,
      () => api<{ rows: Array<{ status: string }>; total: number }>("GET", "/me/orders?pageSize=100", { token }),
      (r) => r.status === 200 && r.body.rows.every((o) => o.status === "paid"),
      { timeoutMs: 300_000, intervalMs: 250 },
    );
  }
  placeMs.sort((a, b) => a - b);
  return {
    orders: range.orders,
    elapsedMs: performance.now() - started,
    p50PlaceMs: percentile(placeMs, 50),
    p99PlaceMs: percentile(placeMs, 99),
  };
}
