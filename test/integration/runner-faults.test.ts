import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { applyBatch, type Projection } from "../../lib/eventlog/projection";
import { Runner } from "../../lib/eventlog/runner";
import { commitId, type Commit } from "../../lib/eventlog/types";
import { MongoStore, commitsCollection } from "../../lib/store/mongo/mongo-store";
import { counterProjection, silentLogger, type CounterDoc } from "../support/counter";
import { STRICT_BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(STRICT_BACKENDS)("runner faults: %s", (kind) => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  test("a poison event halts the runner at its position, keeps what came before, and resumes once fixed", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    for (let i = 0; i < 10; i++) {
      await log.append({
        stream: `c-${i}`,
        expectedSeq: 0,
        events: [{ type: "Incremented", data: { key: i === 6 ? "poison" : `k${i}`, by: 1 } }],
      });
    }
    let broken = true;
    const base = counterProjection();
    const fragile: Projection<CounterDoc> = {
      ...base,
      apply: (event, view) => {
        if (broken && (event.data as { key: string }).key === "poison") throw new Error("cannot apply poison");
        return base.apply(event, view);
      },
    };
    const docs = t.store.collection<CounterDoc>("faults");
    const checkpoints = new Checkpoints(t.store);
    const runner = new Runner({
      name: "faults",
      log,
      checkpoints,
      owner: "me",
      logger: silentLogger,
      pollMs: 20,
      retryDelayMs: 5,
      handle: (commits) => applyBatch(fragile, t.store, docs.name, commits),
    });
    runner.start();
    await until(async () => (await runner.status()).state === "halted");
    const status = await runner.status();
    expect(status.fault).toMatchObject({ pos: 7, message: "cannot apply poison" });
    expect(status.pos).toBe(6);
    expect((await checkpoints.get("faults"))?.pos).toBe(6);
    expect((await checkpoints.get("faults"))?.fault?.pos).toBe(7);
    expect(await docs.count({})).toBe(6);

    // Still halted a while later: it never skips past the poison on its own.
    await new Promise((r) => setTimeout(r, 200));
    expect((await runner.status()).pos).toBe(6);

    broken = false;
    runner.resume();
    expect(await runner.waitFor(10, 5000)).toBe(true);
    expect((await runner.status()).fault).toBeNull();
    expect(await docs.count({})).toBe(10);
    await runner.stop();
  });
});

describe("runner faults: a hole in the log", () => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  // Only MongoDB can have one (a lost write, a bad restore); the embedded log numbers its commits in one process.
  test("halts at the missing position instead of skipping it, and continues once it is filled", async () => {
    t = await openTestStore("mongo");
    const log = t.store.log("test");
    for (let i = 0; i < 3; i++) await log.append({ stream: `s${i}`, expectedSeq: 0, events: [{ type: "E", data: { i } }] });
    const raw = (t.store as MongoStore).connection.db!.collection<Commit>(commitsCollection("test"));
    const commit = (pos: number, stream: string): Commit => ({
      _id: commitId(stream, 1),
      stream,
      seq: 1,
      pos,
      at: Date.now(),
      meta: {},
      events: [{ id: `e${pos}`, type: "E", data: { pos } }],
    });
    await raw.insertOne(commit(5, "after-the-hole"));

    const seen: number[] = [];
    const runner = new Runner({
      name: "holes",
      log,
      checkpoints: new Checkpoints(t.store),
      owner: "me",
      logger: silentLogger,
      pollMs: 20,
      gapTimeoutMs: 300,
      handle: async (commits) => void seen.push(...commits.map((c) => c.pos)),
    });
    runner.start();
    await until(async () => (await runner.status()).state === "halted");
    expect((await runner.status()).fault).toMatchObject({ pos: 4, message: expect.stringContaining("position 4 is missing") });
    expect(seen).toEqual([1, 2, 3]);

    await raw.insertOne(commit(4, "the-late-one"));
    runner.resume();
    expect(await runner.waitFor(5, 5000)).toBe(true);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await runner.stop();
  });
});
