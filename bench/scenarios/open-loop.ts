/**
 * Buyers at a steady rate for a while (an open loop), each paying at once: the latency of
 * POST /api/orders, and of payment → paid (from the buyer pressing "pay" to the tickets issued,
 * as the sales log records it), at a rate the service is meant to hold.
 */
import { orderStream } from "../../services/orders/orders.types";
import { SALES_LOG } from "../../services/inventory/inventory.types";
import { PaymentBook, SaleLedger, saleViolations } from "../../test/support/sale-invariants";
import type { OpenLoopData, OpenLoopResult } from "../open-loop.worker";
import { BENCH_EVENT, buyerRequests, openBenchSale, percentile, settle } from "../sale";
import { runWorker } from "../load/worker-thread";
import type { BenchStack } from "../stack";

export interface OpenLoopOptions {
  rate: number;
  durationSec: number;
  /** How long after the last buyer the orders paid for may take to settle before the figures are taken. */
  settleTimeoutSec: number;
}

export async function openLoop(stack: BenchStack, o: OpenLoopOptions) {
  const orders = Math.round(o.rate * o.durationSec);
  // Enough general admission that nothing sells out: the figure is the steady state.
  const sale = await openBenchSale(stack.api, stack.issuer, orders, 0);
  const requests = await buyerRequests(stack.issuer, sale, orders);
  const result = await runWorker<OpenLoopResult>("open-loop.worker.ts", {
    apiUrl: stack.apiUrl,
    requests,
    rate: o.rate,
  } satisfies OpenLoopData);

  const ledger = new SaleLedger(stack.store, BENCH_EVENT);
  // Settled: paid, or closed because the payment came after the hold ran out.
  const ids = new Set(result.paid.map((p) => p.orderId));
  // A rate past what the stack sustains never settles in time: the figures say so instead of failing.
  const stillUnsettled = await settle(ledger, (order) => ids.has(order.id), ids.size, o.settleTimeoutSec * 1000);
  // When each order's tickets were issued: the commit that made it paid.
  const log = stack.store.log(SALES_LOG);
  const paidToIssuedMs = (
    await Promise.all(
      result.paid.map(async ({ orderId, payAt }) => {
        const commits = await log.readStream(orderStream(orderId));
        const issued = commits.find((c) => c.events.some((e) => e.type === "TicketsIssued"));
        return issued ? issued.at - payAt : Number.POSITIVE_INFINITY;
      }),
    )
  ).sort((a, b) => a - b);
  const payments = new PaymentBook();
  await payments.refresh(ledger.orders());
  const { violations } = saleViolations(ledger, payments, { atRest: false });
  result.orderMs.sort((a, b) => a - b);
  return {
    scenario: "open-loop",
    mode: stack.mode,
    rate: o.rate,
    durationSec: o.durationSec,
    sent: requests.length,
    sentPerSec: Math.round((requests.length / (result.endedAt - result.startedAt)) * 1000),
    generatorMaxLagMs: Math.round(result.maxSendLagMs),
    paidFor: result.paid.length,
    paid: ledger.orders().filter((order) => ids.has(order.id) && order.status === "paid").length,
    // Paid for but neither paid nor closed when the figures were taken (see --settle-timeout).
    unsettled: stillUnsettled,
    violations,
    failures: result.failures,
    p50OrderMs: percentile(result.orderMs, 50),
    p99OrderMs: percentile(result.orderMs, 99),
    maxOrderMs: percentile(result.orderMs, 100),
    p50PaymentToPaidMs: percentile(paidToIssuedMs, 50),
    p99PaymentToPaidMs: percentile(paidToIssuedMs, 99),
  };
}
