import { spawn } from "node:child_process";
import { join } from "node:path";
import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { applyBatch, projectInto, checkpointName, generationCollection, type Projection } from "../../lib/eventlog/projection";
import { ProjectionHost } from "../../lib/eventlog/projection-host";
import { Runner } from "../../lib/eventlog/runner";
import type { EventLog } from "../../lib/eventlog/types";
import type { Store } from "../../lib/store/types";
import { counterProjection, silentLogger, type CounterDoc } from "../support/counter";
import { BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

const ROOT = join(__dirname, "..", "..");
const COMMITS = 300;

async function seed(log: EventLog): Promise<void> {
  for (let i = 0; i < COMMITS; i++) {
    const key = `k${i % 20}`;
    const seq = Math.floor(i / 20);
    await log.append({
      stream: `counter-${key}`,
      expectedSeq: seq,
      events: [{ type: "Incremented", data: { key, by: (i % 7) + 1 } }],
    });
  }
}

/** The read model computed straight from the log, from position 0, in one pass. */
async function fromZero(store: Store, projection: Projection<CounterDoc>): Promise<CounterDoc[]> {
  const scratch = store.collection<CounterDoc>(`scratch_${Date.now()}`);
  await projectInto(projection, store, scratch.name, await store.log(projection.log).readFrom(0, COMMITS + 1));
  return sorted(await scratch.find({}));
}

function sorted(docs: CounterDoc[]): CounterDoc[] {
  return docs.sort((a, b) => a._id.localeCompare(b._id));
}

function runChild(kind: string, location: string, crashAfter: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(ROOT, "node_modules/.bin/node"),
      ["--import", "tsx", "test/support/crash-projector.ts", kind, location, String(crashAfter)],
      {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve(signal));
  });
}

describe.each(BACKENDS)("runner guarantees: %s", (kind) => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  test("a projector killed between applying and checkpointing converges to the rebuild from zero", async () => {
    t = await openTestStore(kind);
    const projection = counterProjection();
    await seed(t.store.log(projection.log));
    if (kind === "embedded") await t.store.close(); // the child takes the data directory's lock

    const signal = await runChild(kind, t.location, 4);
    expect(signal).toBe("SIGKILL");

    if (kind === "embedded") t = await openTestStore(kind, { location: t.location });
    const checkpoint = await new Checkpoints(t.store).get(checkpointName(projection, 1));
    const live = t.store.collection<CounterDoc>(generationCollection(projection, 1));
    // The crash window was really hit: batch 4 is in the read model, its checkpoint is not.
    expect(checkpoint?.pos).toBe(75);
    expect(Math.max(...(await live.find({})).map((d) => d._pos ?? 0))).toBe(100);

    const host = new ProjectionHost({
      store: t.store,
      projection,
      owner: "survivor",
      logger: silentLogger,
      tuning: { pollMs: 20, leaseMs: 200 },
      retireAfterMs: 0,
    });
    await host.start();
    // The dead runner's lease has to lapse before the survivor may continue.
    expect(await host.waitFor(COMMITS, 15_000)).toBe(true);
    const recovered = sorted(await live.find({}));
    const expected = await fromZero(t.store, projection);
    expect(recovered).toEqual(expected);
    expect(recovered.reduce((n, d) => n + d.increments, 0)).toBe(COMMITS);

    // And a rebuild through the host lands on the same documents in a new generation.
    await host.rebuild();
    for (let i = 0; i < 400 && host.collection !== generationCollection(projection, 2); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(host.collection).toBe(generationCollection(projection, 2));
    expect(sorted(await t.store.collection<CounterDoc>(host.collection).find({}))).toEqual(expected);
    await host.stop();
  });

  test("a generation left behind by a stop right after its switch is dropped at the next start", async () => {
    t = await openTestStore(kind);
    const projection = counterProjection();
    await seed(t.store.log(projection.log));
    const host = (retireAfterMs: number) =>
      new ProjectionHost({
        store: t.store,
        projection,
        owner: "me",
        logger: silentLogger,
        tuning: { pollMs: 20 },
        retireAfterMs,
      });
    const first = host(60_000);
    await first.start();
    expect(await first.waitFor(COMMITS, 15_000)).toBe(true);
    await first.rebuild();
    for (let i = 0; i < 400 && first.collection !== generationCollection(projection, 2); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(first.collection).toBe(generationCollection(projection, 2));
    await first.stop(); // before generation 1 was retired
    const old = t.store.collection<CounterDoc>(generationCollection(projection, 1));
    expect(await old.count({})).toBeGreaterThan(0);

    const second = host(0);
    await second.start();
    for (let i = 0; i < 200 && (await old.count({})) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await old.count({})).toBe(0);
    expect(await new Checkpoints(t.store).get(checkpointName(projection, 1))).toBeNull();
    expect(await t.store.collection<CounterDoc>(second.collection).count({})).toBeGreaterThan(0);
    await second.stop();
  });

  test("a live generation built by another version of the projection is rebuilt at start, once", async () => {
    t = await openTestStore(kind);
    const projection = counterProjection();
    await seed(t.store.log(projection.log));
    const host = (version: number) =>
      new ProjectionHost({
        store: t.store,
        projection: { ...projection, version },
        owner: "me",
        logger: silentLogger,
        tuning: { pollMs: 20 },
        retireAfterMs: 0,
      });
    const v1 = host(1);
    await v1.start();
    expect(await v1.waitFor(COMMITS, 15_000)).toBe(true);
    await v1.stop();

    const v2 = host(2);
    await v2.start();
    for (let i = 0; i < 400 && v2.collection !== generationCollection(projection, 2); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(v2.collection).toBe(generationCollection(projection, 2));
    expect(sorted(await t.store.collection<CounterDoc>(v2.collection).find({}))).toEqual(await fromZero(t.store, projection));
    await v2.stop();

    const again = host(2);
    await again.start();
    expect((await again.status()).rebuilding).toBeNull();
    expect(again.collection).toBe(generationCollection(projection, 2));
    await again.stop();
  });

  test("a stalled runner cannot overwrite a newer checkpoint or read model after losing its lease", async () => {
    t = await openTestStore(kind);
    const projection = counterProjection();
    const log = t.store.log(projection.log);
    await seed(log);
    const docs = t.store.collection<CounterDoc>(generationCollection(projection, 1));
    const checkpoints = new Checkpoints(t.store);
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let stallSeen!: () => void;
    const stalling = new Promise<void>((resolve) => (stallSeen = resolve));

    // A reads the documents of its second batch, then stalls (a long GC pause) before writing.
    const slow: Projection<CounterDoc> = {
      ...projection,
      apply: async (event, view) => {
        await projection.apply(event, view);
        if (event.pos === 40) {
          stallSeen();
          await stalled;
        }
      },
    };
    const runner = (owner: string, p: Projection<CounterDoc>) =>
      new Runner({
        name: checkpointName(projection, 1),
        log,
        checkpoints,
        owner,
        logger: silentLogger,
        batchSize: 25,
        pollMs: 20,
        leaseMs: 300,
        retryDelayMs: 10,
        handle: (commits) => applyBatch(p, t.store, docs.name, commits),
      });
    const a = runner("A", slow);
    a.start();
    await stalling;
    const b = runner("B", projection);
    b.start();
    expect(await b.waitFor(COMMITS, 15_000)).toBe(true);
    expect((await checkpoints.get(checkpointName(projection, 1)))?.owner).toBe("B");

    release();
    // A wakes up with stale documents and a stale checkpoint position: both writes are fenced.
    for (let i = 0; i < 500 && (await a.status()).state !== "standby"; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await a.status()).state).toBe("standby");
    const checkpoint = await checkpoints.get(checkpointName(projection, 1));
    expect(checkpoint?.pos).toBe(COMMITS);
    expect(checkpoint?.owner).toBe("B");
    expect(sorted(await docs.find({}))).toEqual(await fromZero(t.store, projection));
    await Promise.all([a.stop(), b.stop()]);
  });
});
