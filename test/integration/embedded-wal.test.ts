import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";

/**
 * The embedded store's write-ahead log must be folded back and restarted while writes never
 * pause (a catch-up of a long log, a sale): a checkpoint beside a busy writer alone never
 * catches up, and the log grew past the database itself (7.9 GB at 1M orders).
 */
test("the write-ahead log stays bounded under writes that never pause", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "wal-"));
  const store = await EmbeddedStore.open({ dataDir, logs: ["test"] });
  try {
    const log = store.log("test");
    const docs = store.collection<{ _id: string; body: string }>("docs");
    const body = "x".repeat(2000);
    const wal = () => statSync(join(dataDir, "store.sqlite-wal")).size;
    let largest = 0;
    // About 200 MB written in all: commits and documents, back to back, with reads between.
    for (let round = 0; round < 1000; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          log.append({ stream: `s-${round}-${i}`, expectedSeq: 0, events: [{ type: "E", data: { body } }] }),
        ),
      );
      await store.write(
        Array.from({ length: 20 }, (_, i) => ({
          collection: "docs",
          op: "insert" as const,
          doc: { _id: `d-${round}-${i}`, body },
        })),
      );
      await log.readFrom(round * 50, 50);
      largest = Math.max(largest, wal());
    }
    expect(await log.head()).toBe(50_000);
    expect(await docs.count({})).toBe(20_000);
    // The database is ~150 MB by now; a log that is checkpointed and restarted stays far below.
    expect(largest).toBeLessThan(96 * 1024 * 1024);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 300_000);
