import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { handleCommand } from "../../lib/eventlog/decider";
import { Runner } from "../../lib/eventlog/runner";
import type { Commit } from "../../lib/eventlog/types";
import { counterDecider, silentLogger } from "../support/counter";
import { BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

const WRITERS = 400;
const STREAMS = 50;

/**
 * Many writers race for positions, with random delays injected between choosing a position
 * and writing it (the window in which a naive log would leave holes or duplicates), while a
 * reader tails the log. The reader must see positions 1..N, each once, in order.
 */
describe.each(BACKENDS)("event log under concurrent writers: %s", (kind) => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  test(`${WRITERS} concurrent commands, a tailing reader sees 1..N once and in order`, async () => {
    t = await openTestStore(kind, {
      hooks: { beforeInsert: () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3)) },
    });
    const log = t.store.log("test");
    const seen: number[] = [];
    const reader = new Runner({
      name: "race-reader",
      log,
      checkpoints: new Checkpoints(t.store),
      owner: "reader",
      logger: silentLogger,
      batchSize: 7,
      pollMs: 20,
      gapTimeoutMs: 10_000,
      handle: async (commits: readonly Commit[]) => {
        for (const c of commits) seen.push(c.pos);
      },
    });
    reader.start();

    const results = await Promise.allSettled(
      Array.from({ length: WRITERS }, (_, i) =>
        handleCommand(
          log,
          counterDecider,
          `counter-${i % STREAMS}`,
          { key: `k${i % STREAMS}`, by: 1 },
          { commandId: `w${i}`, maxAttempts: 50 },
        ),
      ),
    );
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toEqual([]);

    expect(await reader.waitFor(WRITERS, 20_000)).toBe(true);
    await reader.stop();
    expect(seen).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect(await log.head()).toBe(WRITERS);

    const all = await log.readFrom(0, WRITERS + 10);
    expect(all.map((c) => c.pos)).toEqual(seen);
    for (let s = 0; s < STREAMS; s++) {
      const stream = await log.readStream(`counter-${s}`);
      expect(stream.map((c) => c.seq)).toEqual(Array.from({ length: WRITERS / STREAMS }, (_, i) => i + 1));
    }
  });
});
