/**
 * Flash-sale benchmark: buyers over real HTTP against a stack this script starts, paying on
 * the YooKassa simulator's checkout page. Prints one JSON object.
 *
 *   npm run bench:flash-sale -- --mode embedded|distributed --tickets 500 --buyers 2000 [--json file]
 *
 * embedded: the quick start in this process. distributed: gateway, catalogue and sales as
 * three processes over NATS and the MongoDB protocol (the test servers: npm run infra:up).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startApp, type App } from "../lib/app/app";
import { MongoStore } from "../lib/store/mongo/mongo-store";
import type { Store } from "../lib/store/types";
import { apiClient } from "../test/support/api-client";
import { BENCH_EVENT, bareCeiling, buyerRequests, openBenchSale, percentile, runBuyerThread, startProfile } from "./sale";
import { startCluster, type Cluster } from "../test/support/cluster";
import { devIssuerOf } from "../test/support/quickstart";
import { PaymentBook, SaleLedger, saleViolations } from "../test/support/sale-invariants";
import { waitFor } from "../test/support/wait";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "embedded" },
      tickets: { type: "string", default: "500" },
      buyers: { type: "string", default: "2000" },
      json: { type: "string" },
      // Writes a CPU profile of this process during the reservations (embedded mode: the whole stack).
      "cpu-profile": { type: "string" },
      // Which phase the profile covers: the orders, the payments, or both.
      "profile-phase": { type: "string", default: "both" },
    },
  });
  const mode = values.mode;
  if (mode !== "embedded" && mode !== "distributed") throw new Error("--mode must be embedded or distributed");
  const tickets = Number(values.tickets);
  const buyers = Number(values.buyers);
  const dataDir = mkdtempSync(join(tmpdir(), "bench-sale-"));
  const base = {
    DATA_DIR: dataDir,
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    HOST: "127.0.0.1",
    LOG_LEVEL: "error",
    RUNNER_POLL_MS: "100",
    RATE_LIMIT_PER_MINUTE: "0",
  };

  let app: App | null = null;
  let cluster: Cluster | null = null;
  let store: Store;
  let apiUrl: string;
  let issuerEnv: { DATA_DIR: string; DEV_ISSUER: string } = base;
  if (mode === "embedded") {
    app = await startApp({ ...base, PORT: "0" });
    apiUrl = app.apiUrl!;
    store = app.runtime.store;
  } else {
    const { loadInfra, mongoUriFor } = await import("../test/support/infra");
    const infra = loadInfra(["nats", "mongo"]);
    const db = `bench_${randomUUID().slice(0, 8)}`;
    cluster = await startCluster(
      {
        gateway: "api,runners",
        catalogue: "organizers,artists,venues,events,users,runners",
        sales: "inventory,orders,tickets,runners",
      },
      { ...base, TRANSPORTER: infra.natsUrl, NAMESPACE: db, MONGO_URI: mongoUriFor(db) },
    );
    apiUrl = cluster.apiUrl;
    issuerEnv = cluster.env;
    store = await MongoStore.open({ uri: mongoUriFor(db) });
  }
  const api = apiClient(apiUrl);
  const issuer = await devIssuerOf(issuerEnv);
  const sale = await openBenchSale(api, issuer, tickets);
  const requests = await buyerRequests(issuer, sale, buyers);
  // The same buyers against a bare Node HTTP server first, in this very run: the machine's ceiling.
  const bare = await bareCeiling(requests);
  const phase = values["profile-phase"];
  if (!["orders", "payments", "both"].includes(phase!)) throw new Error("--profile-phase must be orders, payments or both");
  let profiler = values["cpu-profile"] && phase !== "payments" ? await startProfile() : null;
  const buyersResult = await runBuyerThread(apiUrl, requests, true, () => {
    if (!values["cpu-profile"]) return;
    if (phase === "orders") void profiler!.stop().then((p) => writeFileSync(values["cpu-profile"]!, JSON.stringify(p)));
    if (phase === "payments") void startProfile().then((p) => (profiler = p));
  });
  const { startedAt, lastReservationAt, reservedAt, reserveMs, failures } = buyersResult;
  const placed = buyersResult.placed;
  // Every order placed was paid for: wait until each is paid, or its payment was refused (the
  // hold lapsed and its tickets went to someone else): settled either way.
  const ledger = new SaleLedger(store, BENCH_EVENT);
  await waitFor(
    `the ${placed} orders paid for to settle`,
    async () => {
      await ledger.refresh();
      return ledger.orders().filter((o) => o.payment && o.status === "awaiting_payment").length;
    },
    (awaiting) => awaiting === 0 && ledger.orders().filter((o) => o.payment).length >= placed,
    { timeoutMs: 300_000, show: (awaiting) => `${awaiting} still awaiting payment` },
  );
  const confirmedAt = performance.timeOrigin + performance.now();
  if (profiler && phase !== "orders") writeFileSync(values["cpu-profile"]!, JSON.stringify(await profiler.stop()));
  const paid = ledger.orders().filter((o) => o.status === "paid").length;
  const payments = new PaymentBook();
  await payments.refresh(ledger.orders());
  // Mid-sale guarantees (never oversold, no seat or barcode twice, no money without tickets):
  // holds of refused requests may still be running out, so not the ones at rest.
  const { violations, figures } = saleViolations(ledger, payments, { atRest: false });
  reserveMs.sort((a, b) => a - b);
  const result = {
    mode,
    tickets,
    buyers,
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
    answeredShareOfBare: Number((buyers / ((reservedAt - startedAt) / 1000) / bare.requestsPerSec).toFixed(3)),
  };
  console.log(JSON.stringify(result));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));

  if (violations.length) process.exitCode = 1;
  if (app) await app.stop();
  else {
    await cluster!.stop();
    await (store as MongoStore).connection.dropDatabase();
    await store.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
