/**
 * Folds the embedded store's write-ahead log into the database file, on a thread of its own:
 * a checkpoint writes megabytes and fsyncs, which on the main thread would stall every request
 * for as long (see WalCheckpointer).
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { file, fsync, intervalMs } = workerData as { file: string; fsync: boolean; intervalMs: number };
const db = new DatabaseSync(file, { timeout: 1000 });
// The checkpoint's fsync of the database file follows this connection's setting.
db.exec(`PRAGMA synchronous = ${fsync ? "FULL" : "NORMAL"}`);

// PASSIVE: copies what no reader still needs and never makes the writer wait.
const timer = setInterval(() => {
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort?.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
