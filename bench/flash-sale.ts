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
import { Session } from "node:inspector";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { startApp, type App } from "../lib/app/app";
import { MongoStore } from "../lib/store/mongo/mongo-store";
import type { Store } from "../lib/store/types";
import { apiClient } from "../test/support/api-client";
import type { BuyerRequest, BuyersResult } from "./buyers.worker";
import { startCluster, type Cluster } from "../test/support/cluster";
import { devIssuerOf } from "../test/support/quickstart";
import { PaymentBook, SaleLedger, saleViolations } from "../test/support/sale-invariants";
import { waitFor } from "../test/support/wait";

async function startProfile(): Promise<{ stop(): Promise<object> }> {
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

function percentile(sorted: number[], p: number): number {
  return sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1)) : 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "embedded" },
      tickets: { type: "string", default: "500" },
      buyers: { type: "string", default: "2000" },
      json: { type: "string" },
      // Writes a CPU profile of this process during the reservations (embedded mode: the whole stack).
      "cpu-profile": { type: "string" },
    },
  });
  const mode = values.mode;
  if (mode !== "embedded" && mode !== "distributed") throw new Error("--mode must be embedded or distributed");
  const tickets = Number(values.tickets);
  const buyers = Number(values.buyers);
  const seats = Math.floor(tickets * 0.4);
  const ga = tickets - seats;
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
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const seatIds = Array.from({ length: seats }, (_, i) => `H:${Math.floor(i / 50) + 1}:${(i % 50) + 1}`);
  const rows = Array.from({ length: Math.ceil(tickets / 50) }, (_, r) => ({
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
      id: "e",
      venueId: "v",
      name: "Bench",
      category: "concert",
      startsAt: "2031-09-01T19:00:00+03:00",
      endsAt: "2031-09-01T22:00:00+03:00",
    },
  });
  await api("POST", "/events/e/categories", {
    token: olga,
    body: { categoryId: "ga", name: "GA", price: 300000, currency: "RUB", kind: "ga", quota: ga },
  });
  if (seats)
    await api("POST", "/events/e/categories", {
      token: olga,
      body: { categoryId: "seats", name: "Seats", price: 500000, currency: "RUB", kind: "seated", seats: seatIds },
    });
  await api("POST", "/events/e/publish", { token: olga });
  await waitFor(
    `event e's page to show ${ga} GA tickets on sale`,
    () => api<{ availability: Record<string, { available: number }> | null }>("GET", "/events/e"),
    (ev) => ev.body?.availability?.ga?.available === ga,
    { timeoutMs: 60_000, show: (ev) => ({ status: ev.status, availability: ev.body?.availability }) },
  );

  const tokens = await Promise.all(Array.from({ length: buyers }, (_, i) => issuer.mint({ sub: `b${i}`, roles: ["customer"] })));
  const requests: BuyerRequest[] = tokens.map((token, i) => {
    // Two buyers in five want a seat; they spread over the whole hall.
    const seat = i % 5 < 2 && seats ? seatIds[(Math.floor(i / 5) * 2 + (i % 5)) % seats] : null;
    const body = {
      eventId: "e",
      customer: { email: `b${i}@example.com`, phone: `+7900${String(i).padStart(7, "0")}` },
      ...(seat ? { seats: [{ categoryId: "seats", seatId: seat }] } : { items: [{ categoryId: "ga", quantity: 1 }] }),
    };
    return { token, body };
  });
  const profiler = values["cpu-profile"] ? await startProfile() : null;
  const worker = new Worker(join(__dirname, "buyers.worker.ts"), {
    workerData: { apiUrl, requests },
    execArgv: ["--import", "tsx"],
  });
  const buyersResult = await new Promise<BuyersResult>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
  if (profiler) writeFileSync(values["cpu-profile"]!, JSON.stringify(await profiler.stop()));
  const { startedAt, lastReservationAt, reservedAt, reserveMs, failures } = buyersResult;
  const placed = buyersResult.placed;
  // Every order placed was paid for: wait until each is paid, or its payment was refused (the
  // hold lapsed and its tickets went to someone else): settled either way.
  const ledger = new SaleLedger(store, "e");
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
