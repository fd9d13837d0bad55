/**
 * Event-store benchmark: appends per second on one hot stream and on many streams, and the
 * projection catch-up rate, on the embedded store and on MongoDB (or anything speaking its
 * protocol). Prints one JSON object per measurement and a table.
 *
 *   npm run bench:eventstore -- [--backend embedded|mongo|both] [--appends 20000] [--writers 64] [--mongo-uri URI]
 *
 * Without --mongo-uri the MongoDB run uses MONGO_URI or the test servers' settings (.infra/env).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ProjectionHost } from "../lib/eventlog/projection-host";
import type { Projection, ReadDoc } from "../lib/eventlog/projection";
import { EmbeddedStore } from "../lib/store/embedded/embedded-store";
import { MongoStore } from "../lib/store/mongo/mongo-store";
import type { Store, StoreKind } from "../lib/store/types";

interface Result {
  backend: StoreKind;
  measurement: string;
  count: number;
  elapsedMs: number;
  perSecond: number;
}

const quiet = { info: () => undefined, warn: () => undefined, error: (...a: unknown[]) => console.error(...a) };

interface TotalDoc extends ReadDoc {
  total: number;
}

const totals: Projection<TotalDoc> = {
  name: "bench.totals",
  log: "bench",
  collection: "bench_totals",
  apply: async (event, view) => {
    const doc = (await view.get(event.stream)) ?? { _id: event.stream, total: 0 };
    view.put({ ...doc, total: doc.total + (event.data as { n: number }).n });
  },
};

async function time(fn: () => Promise<number>): Promise<{ count: number; elapsedMs: number }> {
  const start = process.hrtime.bigint();
  const count = await fn();
  return { count, elapsedMs: Number(process.hrtime.bigint() - start) / 1e6 };
}

function result(backend: StoreKind, measurement: string, { count, elapsedMs }: { count: number; elapsedMs: number }): Result {
  const r = { backend, measurement, count, elapsedMs: Math.round(elapsedMs), perSecond: Math.round((count / elapsedMs) * 1000) };
  console.log(JSON.stringify(r));
  return r;
}

async function bench(backend: StoreKind, store: Store, appends: number, writers: number): Promise<Result[]> {
  const log = store.log("bench");
  const results: Result[] = [];

  // One hot stream: every append waits for the one before it (a single writer, as a mailbox would).
  const hot = Math.max(1, Math.floor(appends / 4));
  results.push(
    result(
      backend,
      "appends/s, one hot stream (sequential writer)",
      await time(async () => {
        for (let seq = 0; seq < hot; seq++)
          await log.append({ stream: "hot", expectedSeq: seq, events: [{ type: "Added", data: { n: 1 } }] });
        return hot;
      }),
    ),
  );

  // Many streams: `writers` concurrent writers, each on its own streams.
  const perWriter = Math.floor(appends / writers);
  results.push(
    result(
      backend,
      `appends/s, many streams (${writers} concurrent writers)`,
      await time(async () => {
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let seq = 0; seq < perWriter; seq++) {
              await log.append({ stream: `s-${w}`, expectedSeq: seq, events: [{ type: "Added", data: { n: 1 } }] });
            }
          }),
        );
        return perWriter * writers;
      }),
    ),
  );

  // Projection catch-up from position 0 over everything above.
  const head = await log.head();
  const host = new ProjectionHost({
    store,
    projection: totals as unknown as Projection,
    owner: "bench",
    logger: quiet,
    tuning: { batchSize: 1000, pollMs: 20 },
  });
  results.push(
    result(
      backend,
      "projection catch-up, events/s",
      await time(async () => {
        await host.start();
        if (!(await host.waitFor(head, 600_000))) throw new Error("projection did not catch up");
        return head;
      }),
    ),
  );
  await host.stop();
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "both" },
      appends: { type: "string", default: "20000" },
      writers: { type: "string", default: "64" },
      "mongo-uri": { type: "string" },
    },
  });
  const appends = Number(values.appends);
  const writers = Number(values.writers);
  if (!Number.isInteger(appends) || appends < writers) throw new Error("--appends must be an integer of at least --writers");
  const backends = values.backend === "both" ? (["embedded", "mongo"] as const) : [values.backend as StoreKind];
  const all: Result[] = [];
  for (const backend of backends) {
    if (backend === "embedded") {
      const dataDir = mkdtempSync(join(tmpdir(), "bench-"));
      const store = await EmbeddedStore.open({ dataDir, logs: ["bench"] });
      all.push(...(await bench("embedded", store, appends, writers)));
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    } else if (backend === "mongo") {
      const base =
        values["mongo-uri"] ?? process.env.MONGO_URI ?? (await import("../test/support/infra")).loadInfra(["mongo"]).mongoUri;
      const uri = base.replace(/\/[^/?]*(\?|$)/, `/bench_${randomUUID().slice(0, 8)}$1`);
      const store = await MongoStore.open({ uri });
      try {
        all.push(...(await bench("mongo", store, appends, writers)));
      } finally {
        await store.connection.dropDatabase();
        await store.close();
      }
    } else {
      throw new Error(`--backend must be embedded, mongo or both, got ${backend}`);
    }
  }
  console.log();
  console.table(
    all.map((r) => ({
      backend: r.backend,
      measurement: r.measurement,
      count: r.count,
      "elapsed ms": r.elapsedMs,
      "per second": r.perSecond,
    })),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
