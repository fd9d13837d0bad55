/**
 * Every buyer at once (a burst): they order, then those who got an order pay. Confirmed
 * orders per second are counted from the first payment to the last order settled.
 */
import { writeFileSync } from "node:fs";
import { PaymentBook, SaleLedger, saleViolations } from "../../test/support/sale-invariants";
import {
  BENCH_EVENT,
  bareCeiling,
  buyerRequests,
  openBenchSale,
  percentile,
  runBuyerThread,
  settle,
  startProfile,
} from "../sale";
import type { BenchStack } from "../stack";

export interface BurstOptions {
  tickets: number;
  buyers: number;
  cpuProfile?: string;
  /** Which phase the profile covers: the orders, the payments, or both. */
  profilePhase: "orders" | "payments" | "both";
}

export async function burst(stack: BenchStack, o: BurstOptions) {
  const sale = await openBenchSale(stack.api, stack.issuer, o.tickets);
  const requests = await buyerRequests(stack.issuer, sale, o.buyers);
  // The same buyers against a bare Node HTTP server first, in this very run: the machine's ceiling.
  const bare = await bareCeiling(requests);
  let profiler = o.cpuProfile && o.profilePhase !== "payments" ? await startProfile() : null;
  const buyersResult = await runBuyerThread(stack.apiUrl, requests, true, () => {
    if (!o.cpuProfile) return;
    if (o.profilePhase === "orders") void profiler!.stop().then((p) => writeFileSync(o.cpuProfile!, JSON.stringify(p)));
    if (o.profilePhase === "payments") void startProfile().then((p) => (profiler = p));
  });
  const { startedAt, lastReservationAt, reservedAt, reserveMs, failures, placed } = buyersResult;
  // Every order placed was paid for: wait until each is paid, or its payment was refused (the
  // hold lapsed and its tickets went to someone else): settled either way.
  const ledger = new SaleLedger(stack.store, BENCH_EVENT);
  const left = await settle(ledger, (order) => !!order.payment, placed, 300_000);
  if (left > 0) throw new Error(`${left} of the ${placed} orders paid for did not settle within 300 s`);
  const confirmedAt = performance.timeOrigin + performance.now();
  if (profiler && o.profilePhase !== "orders") writeFileSync(o.cpuProfile!, JSON.stringify(await profiler.stop()));
  const paid = ledger.orders().filter((order) => order.status === "paid").length;
  const payments = new PaymentBook();
  await payments.refresh(ledger.orders());
  // Mid-sale guarantees (never oversold, no seat or barcode twice, no money without tickets):
  // holds of refused requests may still be running out, so not the ones at rest.
  const { violations, figures } = saleViolations(ledger, payments, { atRest: false });
  reserveMs.sort((a, b) => a - b);
  return {
    scenario: "burst",
    mode: stack.mode,
    tickets: o.tickets,
    buyers: o.buyers,
    sold: figures.sold,
    violations,
    reservations: placed,
    confirmedOrders: paid,
    reservationsPerSec: Math.round((placed / (lastReservationAt - startedAt)) * 1000),
    confirmedOrdersPerSec: Math.round((paid / (confirmedAt - reservedAt)) * 1000),
    p50ReserveMs: percentile(reserveMs, 50),
    p99ReserveMs: percentile(reserveMs, 99),
    elapsedMs: Math.round(confirmedAt - startedAt),
    failures,
    bareRequestsPerSec: bare.requestsPerSec,
    bareP99Ms: bare.p99Ms,
    // Every order answered (placed or refused) per second, as a share of the bare ceiling.
    answeredShareOfBare: Number((o.buyers / ((reservedAt - startedAt) / 1000) / bare.requestsPerSec).toFixed(3)),
  };
}
