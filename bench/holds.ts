/**
 * Inventory hot-path benchmark: many concurrent buyers placing holds on ONE event, through the
 * broker into the event's mailbox (group commits), in the quick start's single process.
 * Prints one JSON object: holds/s and hold latency percentiles.
 *
 *   npm run bench:holds -- [--holds 20000] [--concurrency 500] [--mongo-uri URI]
 *
 * Without --mongo-uri the embedded store (in a temporary directory) is used.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startApp } from "../lib/app/app";
import { SYSTEM } from "../lib/app/context";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      holds: { type: "string", default: "20000" },
      concurrency: { type: "string", default: "500" },
      "mongo-uri": { type: "string" },
    },
  });
  const holds = Number(values.holds);
  const concurrency = Number(values.concurrency);
  const dataDir = mkdtempSync(join(tmpdir(), "bench-holds-"));
  const app = await startApp({
    DATA_DIR: dataDir,
    SERVICES: "inventory,runners",
    LOG_LEVEL: "warn",
    ...(values["mongo-uri"] ? { MONGO_URI: values["mongo-uri"] } : {}),
  });
  const meta = { meta: { user: SYSTEM } };
  const eventId = `bench-${randomUUID().slice(0, 8)}`;
  await app.broker.call(
    "inventory.sync",
    { eventId, open: true, categories: [{ id: "ga", name: "GA", price: 100000, currency: "RUB", kind: "ga", capacity: holds }] },
    meta,
  );

  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < holds) {
        next++;
        const t0 = performance.now();
        try {
          await app.broker.call(
            "inventory.hold",
            {
              eventId,
              holdId: randomUUID(),
              orderId: randomUUID(),
              customerKey: randomUUID(),
              requests: [{ categoryId: "ga", quantity: 1 }],
              expiresAt: Date.now() + 900_000,
            },
            meta,
          );
          latencies.push(performance.now() - t0);
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      store: values["mongo-uri"] ? "mongo" : "embedded",
      holds: latencies.length,
      failed,
      concurrency,
      holdsPerSec: Math.round((latencies.length / elapsedMs) * 1000),
      p50HoldMs: Number(percentile(latencies, 50).toFixed(1)),
      p99HoldMs: Number(percentile(latencies, 99).toFixed(1)),
      elapsedMs: Math.round(elapsedMs),
      commits: await app.runtime.store.log("sales").head(),
    }),
  );
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
