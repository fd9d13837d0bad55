/**
 * Notifications benchmark: receipts end to end, from the payment to the e-mail with its PDF
 * in a real SMTP server (a Mailpit of its own). Prints one JSON object.
 *
 *   npm run bench:notifications -- --orders 500 [--json file]
 *
 * Two runs of the quick start (embedded store, everything in this process, the buyers on a
 * thread of their own), each selling `orders` tickets to as many buyers:
 * - live: Mailpit up. The figures are the sale's confirmed orders per second (as in
 *   bench:flash-sale) against receipts per second (first payment → last receipt) and the lag
 *   of each receipt behind its payment (p50/p99): a pipeline that keeps up has a lag that
 *   does not grow with the sale.
 * - backlog: Mailpit down for the whole sale, started once every order is paid; the receipts
 *   per second from the first receipt to the last are what the pipeline can send when there
 *   is more than enough work: its capacity, compared with the confirmed-order rate.
 * Each run also counts receipts per buyer: exactly one each, or it says how many were not.
 * Needs the Mailpit binary of `npm run infra:up` (scripts/infra/mailpit).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startApp } from "../lib/app/app";
import type { Store } from "../lib/store/types";
import { SALES_LOG } from "../services/inventory/inventory.types";
import { apiClient } from "../test/support/api-client";
import { ownMailpit, type MailpitClient, type MailpitSummary } from "../test/support/mailpit";
import { devIssuerOf } from "../test/support/quickstart";
import { waitFor } from "../test/support/wait";
import { buyerRequests, openBenchSale, percentile, runBuyerThread, startProfile } from "./sale";

interface Run {
  orders: number;
  paid: number;
  confirmedOrdersPerSec: number;
  receipts: number;
  receiptsPerSec: number;
  p50LagMs: number;
  p99LagMs: number;
  maxLagMs: number;
  /** Buyers with a paid order and no receipt, or more than one. */
  missing: number;
  duplicates: number;
  elapsedMs: number;
}

/** When each paid order's tickets were issued (its payment confirmed), by the buyer's address. */
async function issuedAt(store: Store): Promise<Map<string, number>> {
  const issued = new Map<string, number>();
  const log = store.log(SALES_LOG);
  for (let after = 0; ;) {
    const commits = await log.readFrom(after, 1000);
    for (const commit of commits)
      for (const event of commit.events)
        if (event.type === "TicketsIssued") {
          const email = (event.data as { customer: { email: string } }).customer.email.toLowerCase();
          issued.set(email, commit.at);
        }
    if (commits.length < 1000) return issued;
    after = commits[commits.length - 1].pos;
  }
}

async function everyMessage(client: MailpitClient): Promise<MailpitSummary[]> {
  const all: MailpitSummary[] = [];
  for (;;) {
    const page = await client.list(all.length, 1000);
    all.push(...page.messages);
    if (page.messages.length === 0 || all.length >= page.total) return all;
  }
}

async function run(orders: number, backlog: boolean, profileFile?: string): Promise<Run> {
  const mailpit = await ownMailpit();
  const dataDir = mkdtempSync(join(tmpdir(), "bench-notify-"));
  const app = await startApp({
    DATA_DIR: dataDir,
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "error",
    RUNNER_POLL_MS: "100",
    RATE_LIMIT_PER_MINUTE: "0",
    SMTP_URL: mailpit.smtpUrl,
    // The backlog run's first attempts fail while Mailpit is down: retry soon once it is back.
    NOTIFY_RETRY_BASE_MS: "200",
    NOTIFY_RETRY_MAX_MS: "2000",
    NOTIFY_MAX_ATTEMPTS: "100",
    // The PDF threads: the setting's default (cores − 1) unless the command line's environment says.
    ...(process.env.NOTIFY_RENDER_THREADS ? { NOTIFY_RENDER_THREADS: process.env.NOTIFY_RENDER_THREADS } : {}),
  });
  try {
    if (backlog) await mailpit.stop();
    const api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf({ DATA_DIR: dataDir, DEV_ISSUER: "http://localhost:3000/dev-issuer" });
    const sale = await openBenchSale(api, issuer, orders);
    const requests = await buyerRequests(issuer, sale, orders);
    const buyers = await runBuyerThread(app.apiUrl!, requests);
    const store = app.runtime.store;
    // Paid orders, by their buyers' addresses, once every payment was settled.
    const issued = await waitFor(
      `the ${buyers.placed} orders paid for to get their tickets`,
      () => issuedAt(store),
      (m) => m.size >= buyers.placed,
      { timeoutMs: 300_000, intervalMs: 200, show: (m) => `${m.size} issued` },
    );
    const firstIssued = Math.min(...issued.values());
    const lastIssued = Math.max(...issued.values());
    const profiler = profileFile ? await startProfile() : null;
    if (backlog) await mailpit.start();
    await waitFor(
      `${issued.size} receipts in Mailpit`,
      () => everyMessage(mailpit.client),
      (m) => m.length >= issued.size,
      { timeoutMs: 600_000, intervalMs: 250, show: (m) => `${m.length} so far` },
    );
    if (profiler) writeFileSync(profileFile!, JSON.stringify(await profiler.stop()));
    // Late repeats would show up a moment later: look once more before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const final = await everyMessage(mailpit.client);
    const perBuyer = new Map<string, number[]>();
    for (const m of final)
      for (const to of m.To ?? []) {
        const key = to.Address.toLowerCase();
        perBuyer.set(key, [...(perBuyer.get(key) ?? []), Date.parse(m.Created)]);
      }
    const lags: number[] = [];
    let missing = 0;
    let duplicates = 0;
    for (const [email, at] of issued) {
      const arrived = perBuyer.get(email);
      if (!arrived) missing++;
      else {
        if (arrived.length > 1) duplicates += arrived.length - 1;
        lags.push(Math.min(...arrived) - at);
      }
    }
    lags.sort((a, b) => a - b);
    const lastReceipt = Math.max(...final.map((m) => Date.parse(m.Created)));
    // Live: from the first payment, as the buyers see it. Backlog: from the first receipt, so
    // the wait for the first retries after Mailpit came back is not counted against the pipeline.
    const from = backlog ? Math.min(...final.map((m) => Date.parse(m.Created))) : firstIssued;
    return {
      orders,
      paid: issued.size,
      confirmedOrdersPerSec: Math.round((issued.size / Math.max(1, lastIssued - buyers.reservedAt)) * 1000),
      receipts: final.length,
      receiptsPerSec: Math.round((final.length / Math.max(1, lastReceipt - from)) * 1000),
      p50LagMs: percentile(lags, 50),
      p99LagMs: percentile(lags, 99),
      maxLagMs: lags.length ? Math.round(lags[lags.length - 1]) : 0,
      missing,
      duplicates,
      elapsedMs: Math.round(lastReceipt - buyers.startedAt),
    };
  } finally {
    await app.stop();
    await mailpit.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: "string", default: "500" },
      json: { type: "string" },
      // A CPU profile of the whole stack (this process) during the backlog run's sending.
      "cpu-profile": { type: "string" },
    },
  });
  const orders = Number(values.orders);
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error("--orders must be a positive integer");
  const live = await run(orders, false);
  const backlog = await run(orders, true, values["cpu-profile"]);
  const result = {
    orders,
    live,
    backlog,
    // How many times the confirmed-order rate the pipeline can send (backlog capacity over the live sale's rate).
    headroom: Number((backlog.receiptsPerSec / Math.max(1, live.confirmedOrdersPerSec)).toFixed(2)),
  };
  console.log(JSON.stringify(result));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  if (live.missing || live.duplicates || backlog.missing || backlog.duplicates) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
