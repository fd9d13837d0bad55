/**
 * The quick start's embedded store at scale (issue 11): grows a data set of N paid orders,
 * then measures what an organiser running `npm start` for years would live with: size on
 * disk, memory while serving, restart until `/api/ready` answers 200, rebuild of the orders
 * projection (`projections rebuild` in the admin REPL), p50/p99 of the catalogue, a buyer's
 * orders and placing an order on the hot event under a steady load, and the longest
 * event-loop stall of the product (its own gauge on METRICS_PORT).
 *
 *   npm run bench:embedded-scale -- [--orders 50000,1000000] [--http-orders 2000] [--seconds 20]
 *                                   [--clients 4] [--idle-seconds 65] [--keep] [--cpu-prof-dir DIR] [--json FILE]
 *                                   [--data-dir DIR [--grow-only]] [--resume DIR]
 *
 * The first --http-orders orders are placed and paid over HTTP (the simulator's checkout page);
 * the rest are written as the services' commits straight into the stopped product's store
 * (bench/scale/history.ts), after which the product catches its projections up on start.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { apiClient } from "../test/support/api-client";
import { devIssuerOf } from "../test/support/quickstart";
import { writeHistory } from "./scale/history";
import { openCatalogue, sellOverHttp } from "./scale/http-sales";
import { runLoad, type RouteFigures } from "./scale/load";
import { productEnv, startProduct, type Product, type ProductEnv } from "./scale/product";
import { rebuildOrders } from "./scale/rebuild";
import { printReport, type ScaleFigures } from "./scale/report";

/** Buyers whose orders GET /api/me/orders reads: the first 20 × READERS orders are theirs. */
const READERS = 10;
const ORDERS_PER_READER = 20;

function say(line: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Order n's buyer: the readers first, then a crowd of about five orders per buyer. */
function buyers(orders: number): (n: number) => string {
  const crowd = Math.max(20, Math.floor(orders / 5));
  return (n) => (n < READERS * ORDERS_PER_READER ? `reader-${n % READERS}` : `buyer-${(n * 2654435761) % crowd}`);
}

function bytesIn(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? bytesIn(path) : statSync(path).size;
  }
  return bytes;
}

async function measure(orders: number, options: Options): Promise<ScaleFigures | null> {
  const dataDir = options.resume ?? options.dataDir ?? mkdtempSync(join(tmpdir(), `bench-scale-${orders}-`));
  if (options.dataDir && !options.resume) {
    mkdirSync(dataDir, { recursive: true });
    if (readdirSync(dataDir).length) throw new Error(`--data-dir ${dataDir} is not empty`);
  }
  const env: ProductEnv = await productEnv(dataDir);
  const buyerOf = buyers(orders);
  const httpOrders = Math.min(orders, Math.max(options.httpOrders, READERS * ORDERS_PER_READER));
  const archive = Math.max(4, Math.ceil(orders / 25_000));
  const capacity = Math.min(200_000, Math.ceil((orders * 2) / archive) + 1000);
  const nodeArgs = options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  say(`${orders} orders in ${dataDir}: ${archive} archive events of ${capacity} tickets, ${httpOrders} orders over HTTP`);

  let product: Product;
  let emptyStartMs: number | null = null;
  let emptyRssMb: number | null = null;
  let catchUpMs: number | null = null;
  let historyMs: number | null = null;
  const issuer = await devIssuerOf(env);
  if (options.resume) {
    // A run that wrote the catalogue and the history and then failed: catch up and go on from there.
    const t1 = performance.now();
    product = await startProduct(env);
    await waitCaughtUp(product, await issuer.mint({ sub: "root", roles: ["admin"] }));
    catchUpMs = performance.now() - t1;
    say(`resumed: caught up in ${(catchUpMs / 1000).toFixed(1)} s`);
  } else {
    product = await startProduct(env);
    emptyStartMs = product.readyMs;
    emptyRssMb = product.rssMb();
    await openCatalogue(apiClient(product.apiUrl), issuer, archive, capacity);
    if (orders > httpOrders) {
      await product.stop();
      const t0 = performance.now();
      const history = orders - httpOrders;
      // Dated over the two years before the HTTP sales.
      const span = 2 * 365 * 86_400_000;
      await writeHistory(
        dataDir,
        {
          first: httpOrders,
          orders: history,
          archive,
          startAt: Date.now() - span,
          stepMs: Math.floor(span / history),
          concurrency: 64,
        },
        buyerOf,
        (written) =>
          say(`history: ${written}/${history} orders written (${Math.round(process.memoryUsage().rss / 1048576)} MB here)`),
      );
      historyMs = performance.now() - t0;
      say(`history written in ${(historyMs / 1000).toFixed(1)} s; starting the product to catch up`);
      const t1 = performance.now();
      product = await startProduct(env);
      await waitCaughtUp(product, await issuer.mint({ sub: "root", roles: ["admin"] }));
      catchUpMs = performance.now() - t1;
      say(`caught up in ${(catchUpMs / 1000).toFixed(1)} s`);
    }
  }
  // A resumed directory that was measured before already has the orders sold over HTTP.
  const reader = await issuer.mint({ sub: "reader-0", roles: ["customer"] });
  const before = await apiClient(product.apiUrl)<{ total?: number }>("GET", "/me/orders", { token: reader });
  if ((before.body.total ?? 0) > 0) say(`the ${httpOrders} orders over HTTP were sold before`);
  else {
    say(`placing and paying ${httpOrders} orders over HTTP`);
    const sale = await sellOverHttp(
      apiClient(product.apiUrl),
      issuer,
      { first: 0, orders: httpOrders, archive, concurrency: 16 },
      buyerOf,
    );
    say(`sold over HTTP in ${(sale.elapsedMs / 1000).toFixed(1)} s (place p50 ${sale.p50PlaceMs} ms, p99 ${sale.p99PlaceMs} ms)`);
  }
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  await waitCaughtUp(product, admin);
  await waitReceipts(product, admin, httpOrders);
  if (options.growOnly) {
    await product.stop();
    say(`grown: ${dataDir} (${(bytesIn(dataDir) / 1048576).toFixed(1)} MB), the product stopped`);
    return null;
  }

  // Restarts: SIGTERM, start again, time until /api/ready answers 200.
  const restarts: Array<{ stopMs: number; readyMs: number }> = [];
  for (let i = 0; i < 2; i++) {
    const stopMs = await product.stop();
    product = await startProduct(env, { nodeArgs: i === 1 ? nodeArgs : [] });
    restarts.push({ stopMs, readyMs: product.readyMs });
    say(`restart ${i + 1}: stopped in ${stopMs.toFixed(0)} ms, ready in ${product.readyMs.toFixed(0)} ms`);
  }
  const startupStall = await product.loopDelay();
  const idleRssMb = product.rssMb();

  const readers = await Promise.all(
    Array.from({ length: READERS }, (_, i) => issuer.mint({ sub: `reader-${i}`, roles: ["customer"] })),
  );
  const placers = await Promise.all(
    Array.from({ length: 2000 }, (_, i) => issuer.mint({ sub: `placer-${i}`, roles: ["customer"] })),
  );
  await product.loopDelay();
  let loadRssMb = 0;
  const loadAverage = [loadavg()[0]];
  say(`load: ${options.clients} clients per request for ${options.seconds} s`);
  const load: RouteFigures[] = await runLoad(
    { apiUrl: product.apiUrl, seconds: options.seconds, clients: options.clients, readers, placers },
    () => {
      loadRssMb = Math.max(loadRssMb, product.rssMb());
      loadAverage.push(loadavg()[0]);
    },
  );
  const loadStall = await product.loopDelay();
  // The product's periodic sweeps (payment reconciliation every PAYMENT_RECONCILE_AFTER_MS,
  // 60 s by default) may fall outside the load: an idle minute and a bit shows their stalls.
  say(`idle for ${options.idleSeconds} s (periodic sweeps)`);
  let idleRssMax = 0;
  const idleUntil = performance.now() + options.idleSeconds * 1000;
  while (performance.now() < idleUntil) {
    idleRssMax = Math.max(idleRssMax, product.rssMb());
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const idleStall = await product.loopDelay();
  const salesHead = await salesLogHead(product, admin);
  await product.stop();
  // Before the rebuild: a stop soon after it leaves the old generation's table behind (it is
  // dropped 30 s after the switch by a process still running), which is not the data set's size.
  const diskMb = bytesIn(dataDir) / 1048576;
  const storeMb = readdirSync(dataDir)
    .filter((name) => name.startsWith("store.sqlite"))
    .reduce((mb, name) => mb + statSync(join(dataDir, name)).size / 1048576, 0);

  say("rebuilding sales.orders from the admin REPL");
  const rebuild = await rebuildOrders(env, admin, nodeArgs);
  const figures: ScaleFigures = {
    orders,
    httpOrders,
    archiveEvents: archive,
    salesCommits: salesHead,
    diskMb,
    storeMb,
    historyWriteMs: historyMs,
    catchUpStartMs: catchUpMs,
    emptyStartMs,
    emptyRssMb,
    restarts,
    idleRssMb,
    loadRssMb,
    startupStall,
    loadStall,
    idleStall,
    idleRssMax,
    load,
    loadAverage: Math.max(...loadAverage),
    rebuild,
  };
  if (!options.keep && !options.dataDir && !options.resume) rmSync(dataDir, { recursive: true, force: true });
  else say(`data kept in ${dataDir}`);
  return figures;
}

/** Until every runner of the product is at its log's head (ready only allows READY_MAX_LAG behind). */
export async function waitCaughtUp(product: Product, admin: string): Promise<void> {
  for (;;) {
    const report = await runners(product, admin);
    if (report.every((r) => r.lag === 0 && r.state !== "starting")) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Until the receipts of the orders paid over HTTP are sent: their PDFs are work a restart would wait for. */
async function waitReceipts(product: Product, admin: string, paid: number): Promise<void> {
  for (;;) {
    const res = await fetch(`${product.apiUrl}/notifications?status=sent&pageSize=1`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const body = (await res.json()) as { total?: number };
    if ((body.total ?? 0) >= paid) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function runners(product: Product, admin: string) {
  const res = await fetch(`${product.apiUrl}/ready`, { headers: { authorization: `Bearer ${admin}` } });
  const body = (await res.json()) as {
    nodes?: Array<{ runners: Array<{ runner: string; name: string; state: string; pos: number; head: number; lag: number }> }>;
  };
  return (body.nodes ?? []).flatMap((n) => n.runners);
}

async function salesLogHead(product: Product, admin: string): Promise<number> {
  const orders = (await runners(product, admin)).find((r) => r.runner === "sales.orders");
  return orders?.head ?? 0;
}

interface Options {
  httpOrders: number;
  seconds: number;
  clients: number;
  keep: boolean;
  idleSeconds: number;
  cpuProfDir?: string;
  /** Grow into this (empty) directory and keep it. */
  dataDir?: string;
  /** A data directory a failed run of the same --orders left with its catalogue and history written. */
  resume?: string;
  /** Stop once the data set is grown and caught up: a data directory to study, no figures. */
  growOnly: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: "string", default: "50000,1000000" },
      "http-orders": { type: "string", default: "2000" },
      seconds: { type: "string", default: "20" },
      clients: { type: "string", default: "4" },
      "idle-seconds": { type: "string", default: "65" },
      keep: { type: "boolean", default: false },
      "data-dir": { type: "string" },
      "grow-only": { type: "boolean", default: false },
      resume: { type: "string" },
      "cpu-prof-dir": { type: "string" },
      json: { type: "string" },
    },
  });
  const sizes = values.orders.split(",").map((s) => Number(s.trim().replace(/k$/i, "000").replace(/m$/i, "000000")));
  if (sizes.some((s) => !Number.isInteger(s) || s < 200))
    throw new Error(`--orders: sizes of at least 200, got ${values.orders}`);
  const options: Options = {
    httpOrders: Number(values["http-orders"]),
    seconds: Number(values.seconds),
    clients: Number(values.clients),
    keep: values.keep,
    idleSeconds: Number(values["idle-seconds"]),
    cpuProfDir: values["cpu-prof-dir"],
    dataDir: values["data-dir"],
    growOnly: values["grow-only"],
    resume: values.resume,
  };
  if (options.dataDir && sizes.length > 1) throw new Error("--data-dir takes one size in --orders");
  const all: ScaleFigures[] = [];
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
  say(`commit ${commit}, node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`);
  for (const orders of sizes) {
    const figures = await measure(orders, options);
    if (!figures) continue;
    all.push(figures);
    printReport(figures);
    console.log(JSON.stringify(figures));
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(all, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
