import { monitorEventLoopDelay } from "node:perf_hooks";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedStore } from "../lib/store/embedded/embedded-store";

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "stall-"));
  const store = await EmbeddedStore.open({ dataDir, logs: ["sales"], fsync: process.argv[2] === "fsync" });
  const log = store.log("sales");
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = Date.now();
  const payload = { customer: { name: "Anna Ivanova", email: "x@example.org" }, items: Array.from({ length: 3 }, (_, i) => ({ categoryId: "c" + i, price: 350000, seat: "B:1:" + i })) };
  for (let round = 0; round < 1500; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append({ stream: `order-${round}-${i}`, expectedSeq: 0, events: [{ type: "OrderPlaced", data: payload }, { type: "PaymentAttached", data: payload }] })));
  }
  h.disable();
  console.log({ commits: 150000, ms: Date.now() - t0, maxStallMs: h.max / 1e6, p99: h.percentile(99) / 1e6, rss: process.memoryUsage().rss / 1e6 });
  await store.close();
}
void main();
