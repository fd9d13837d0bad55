import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { applyBatch } from "../../lib/eventlog/projection";
import { Runner } from "../../lib/eventlog/runner";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { counterProjection, silentLogger } from "../support/counter";

/**
 * The embedded store answers synchronously: every await on it resolves at once. A runner
 * catching up on a long log must still let the process serve requests between batches.
 */
test("a runner catching up on the embedded store lets timers and I/O run between its batches", async () => {
  const store = await EmbeddedStore.open({ logs: ["test"] });
  try {
    const log = store.log("test");
    const commits = 3000;
    await Promise.all(
      Array.from({ length: commits }, (_, i) =>
        log.append({
          stream: `counter-k${i}`,
          expectedSeq: 0,
          events: [{ type: "Incremented", data: { key: `k${i % 50}`, by: 1 } }],
        }),
      ),
    );
    const projection = counterProjection();
    const runner = new Runner({
      name: "catch-up",
      log,
      checkpoints: new Checkpoints(store),
      owner: "me",
      logger: silentLogger,
      batchSize: 50,
      handle: (batch) => applyBatch(projection, store, "counters", batch),
    });
    // A timer due at once: it can only fire if the runner gives the event loop a turn.
    const seenAt = new Promise<number>((resolve) => setTimeout(() => resolve(runner.position), 0));
    runner.start();
    expect(await seenAt).toBeLessThan(commits);
    expect(await runner.waitFor(commits, 60_000)).toBe(true);
    await runner.stop();
    expect((await store.collection<{ _id: string; total: number }>("counters").find({})).reduce((n, d) => n + d.total, 0)).toBe(
      commits,
    );
  } finally {
    await store.close();
  }
});

test("dropping a big collection of the embedded store lets timers run while it empties", async () => {
  const store = await EmbeddedStore.open({ logs: [] });
  try {
    const docs = store.collection<{ _id: string; n: number }>("retired_g1");
    await store.write(
      Array.from({ length: 20_000 }, (_, n) => ({ collection: "retired_g1", op: "insert" as const, doc: { _id: `d${n}`, n } })),
    );
    let left = -1;
    const seen = new Promise<void>((resolve) =>
      setTimeout(() => {
        // Read straight from SQLite: how many rows the drop has not deleted yet.
        left = (docs as unknown as { countNow(f: object): number }).countNow({});
        resolve();
      }, 0),
    );
    await docs.drop();
    await seen;
    expect(left).toBeGreaterThan(0);
    expect(await store.collection("retired_g1").count({})).toBe(0);
  } finally {
    await store.close();
  }
});
