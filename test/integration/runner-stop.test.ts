import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { Runner } from "../../lib/eventlog/runner";
import { disposeTestStore, openTestStore, type TestStore } from "../support/stores";

describe("stopping a runner", () => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  test("a stop asked for while a batch is being retried leaves it for the next start, as no fault", async () => {
    t = await openTestStore("embedded");
    const log = t.store.log("test");
    await log.append({ stream: "c-1", expectedSeq: 0, events: [{ type: "Incremented", data: { key: "k", by: 1 } }] });
    const checkpoints = new Checkpoints(t.store);
    const errors: unknown[][] = [];
    let stopped: Promise<void> | null = null;
    const runner: Runner = new Runner({
      name: "stop-mid-batch",
      log,
      checkpoints,
      owner: "me",
      logger: { info: () => undefined, warn: () => undefined, error: (...args) => errors.push(args) },
      pollMs: 20,
      retryDelayMs: 5,
      handle: async () => {
        // The process is told to stop while this commit fails once (e.g. a store hiccup).
        stopped ??= runner.stop();
        throw new Error("store hiccup");
      },
    });
    runner.start();
    const deadline = Date.now() + 10_000;
    while (stopped === null) {
      if (Date.now() > deadline) throw new Error("waited 10 s for the runner to try the commit");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await stopped;

    const status = await runner.status();
    expect(status).toMatchObject({ state: "stopped", pos: 0, fault: null });
    expect(errors).toEqual([]);
    expect(await checkpoints.get("stop-mid-batch")).toMatchObject({ pos: 0, fault: null });
  });
});
