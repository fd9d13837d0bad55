import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { ParkedKeys } from "../../lib/eventlog/parked-keys";
import { PartitionedHandler } from "../../lib/eventlog/partitioned-handler";
import { applyBatch } from "../../lib/eventlog/projection";
import { Runner, type RunnerLogger, type RunnerOptions, type RunnerStatus } from "../../lib/eventlog/runner";
import { eventsOf, type EventLog, type RecordedEvent } from "../../lib/eventlog/types";
import type { Store } from "../../lib/store/types";
import { counterProjection, silentLogger, type CounterDoc } from "../support/counter";
import { BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

const SUBSCRIPTION = "test.side-effects";

/** Polls until `check` holds; throws naming what it waited for. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Appends one event per key in `keys`, in that order, to stream k-<key>. */
async function append(log: EventLog, keys: string[]): Promise<void> {
  for (const key of keys) {
    const stream = `k-${key}`;
    const seq = (await log.readStream(stream)).length;
    await log.append({ stream, expectedSeq: seq, events: [{ type: "Incremented", data: { key, by: 1 } }] });
  }
}

/** The side effect under test: it records what ran, and refuses whatever `refuse` says. */
class SideEffects {
  readonly ran: RecordedEvent[] = [];
  refuse: (event: RecordedEvent) => boolean = () => false;

  async run(event: RecordedEvent): Promise<void> {
    if (this.refuse(event)) throw new Error(`provider refuses ${event.stream}@${event.pos}`);
    this.ran.push(event);
  }

  positionsOf(stream: string): number[] {
    return this.ran.filter((e) => e.stream === stream).map((e) => e.pos);
  }
}

function recordingLogger(lines: string[]): RunnerLogger {
  return { info: () => undefined, warn: (...args) => lines.push(args.join(" ")), error: (...args) => lines.push(args.join(" ")) };
}

interface SubscriptionTuning {
  logger?: RunnerLogger;
  parkedRetryMs?: number;
}

function subscription(store: Store, owner: string, effects: SideEffects, tuning: SubscriptionTuning = {}) {
  const logger = tuning.logger ?? silentLogger;
  const log = store.log("test");
  const handler = new PartitionedHandler({
    subscription: SUBSCRIPTION,
    log,
    parked: new ParkedKeys(store, SUBSCRIPTION),
    select: (event) => event.type === "Incremented",
    key: (event) => event.stream,
    run: (event) => effects.run(event),
    concurrency: 4,
    logger,
    retryDelayMs: 5,
    parkedRetryMs: tuning.parkedRetryMs ?? 40,
    parkedRetryMaxMs: (tuning.parkedRetryMs ?? 40) * 4,
  });
  const runner = new Runner({
    name: SUBSCRIPTION,
    log,
    checkpoints: new Checkpoints(store),
    owner,
    logger,
    pollMs: 20,
    retryDelayMs: 5,
    leaseMs: 2000,
    batchSize: 10,
    handle: (commits) => handler.handle(commits),
    parking: handler,
  });
  return { runner, handler, control: handler.control(() => runner.wake()) };
}

async function positionsOfStream(log: EventLog, stream: string): Promise<number[]> {
  return (await log.readStream(stream)).map((c) => c.pos);
}

function parkedCount(status: RunnerStatus): number {
  return status.parked?.count ?? 0;
}

describe.each(BACKENDS)("a partitioned subscription parks the key that keeps failing: %s", (kind) => {
  let t: TestStore;
  afterEach(async () => disposeTestStore(t));

  test("other keys flow, later events of the parked key wait, and once fixed they run in order", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    const effects = new SideEffects();
    effects.refuse = (e) => e.stream === "k-b";
    // 30 commits, 5 keys interleaved, in batches of 10: "b" fails in every batch.
    await append(
      log,
      Array.from({ length: 30 }, (_, i) => "abcde"[i % 5]),
    );
    const { runner } = subscription(t.store, "me", effects);
    runner.start();

    // The checkpoint reaches the head: the runner did not halt on "b".
    expect(await runner.waitFor(30, 20_000)).toBe(true);
    let status = await runner.status();
    expect(status.state).not.toBe("halted");
    expect(status.fault).toBeNull();
    const bPositions = await positionsOfStream(log, "k-b");
    expect(status.parked).toMatchObject({
      count: 1,
      keys: [{ key: "k-b", pos: bPositions[0], pending: 6, lastError: `provider refuses k-b@${bPositions[0]}` }],
    });
    for (const key of "acde") expect(effects.positionsOf(`k-${key}`)).toEqual(await positionsOfStream(log, `k-${key}`));
    expect(effects.positionsOf("k-b")).toEqual([]);

    // Later events: "a" flows, "b" queues behind its head.
    await append(log, ["b", "a", "b"]);
    runner.wake();
    expect(await runner.waitFor(33, 20_000)).toBe(true);
    expect(effects.positionsOf("k-a")).toEqual(await positionsOfStream(log, "k-a"));
    status = await runner.status();
    expect(status.parked?.keys[0]).toMatchObject({ key: "k-b", pending: 8 });

    // The subscription retries with backoff on its own while the cause persists...
    await until(
      "a second failed round at the parked key",
      async () => ((await runner.status()).parked?.keys[0]?.attempts ?? 0) >= 2,
    );
    expect(effects.positionsOf("k-b")).toEqual([]);
    // ...and once the cause is fixed, the queue runs in log order, each event once.
    effects.refuse = () => false;
    await until("the parked key to drain", async () => parkedCount(await runner.status()) === 0);
    expect(effects.positionsOf("k-b")).toEqual(await positionsOfStream(log, "k-b"));
    expect(effects.ran).toHaveLength(33);
    expect((await runner.status()).state).not.toBe("halted");
    await runner.stop();
  });

  test("an admin skips the head event with a reason; the rest of the key then runs", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    await append(log, ["a", "b", "a", "b", "a"]);
    const poison = (await log.readStream("k-a"))[1].pos;
    const effects = new SideEffects();
    effects.refuse = (e) => e.pos === poison;
    const lines: string[] = [];
    const { runner, control } = subscription(t.store, "me", effects, { logger: recordingLogger(lines) });
    runner.start();
    expect(await runner.waitFor(5, 20_000)).toBe(true);
    expect((await control.list()).map((k) => [k.key, k.pos, k.pending])).toEqual([["k-a", poison, 2]]);

    expect(await control.skip("k-x", "no such key", "ops")).toBeNull();
    const skipped = await control.skip("k-a", "provider says the id is malformed", "ops");
    expect(skipped).toMatchObject({ key: "k-a", skipped: { pos: poison }, remaining: 1 });
    await until("the rest of k-a to run", async () => parkedCount(await runner.status()) === 0);
    const aPositions = await positionsOfStream(log, "k-a");
    expect(effects.positionsOf("k-a")).toEqual(aPositions.filter((p) => p !== poison));
    expect(effects.positionsOf("k-b")).toEqual(await positionsOfStream(log, "k-b"));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`position ${poison} skipped by ops .*provider says the id is malformed`)),
      ]),
    );
    await runner.stop();
  });

  test("an admin's retry runs the key now instead of after its backoff", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    await append(log, ["a", "b"]);
    const effects = new SideEffects();
    effects.refuse = (e) => e.stream === "k-a";
    // A backoff of an hour: only the admin's retry can run the key within this test.
    const { runner, handler, control } = subscription(t.store, "me", effects, { parkedRetryMs: 3_600_000 });
    runner.start();
    expect(await runner.waitFor(2, 20_000)).toBe(true);
    effects.refuse = () => false;
    expect((await handler.summary()).count).toBe(1);
    expect(await control.retry("k-a")).toMatchObject({ key: "k-a", nextAttemptAt: 0 });
    await until("the retried key to drain", async () => parkedCount(await runner.status()) === 0);
    expect(effects.positionsOf("k-a")).toEqual(await positionsOfStream(log, "k-a"));
    await runner.stop();
  });

  test("a restart on the same store keeps the parked keys and retries them; nothing is lost or run twice", async () => {
    t = await openTestStore(kind);
    let log = t.store.log("test");
    await append(
      log,
      Array.from({ length: 20 }, (_, i) => "abcd"[i % 4]),
    );
    const first = new SideEffects();
    first.refuse = (e) => e.stream === "k-c";
    const a = subscription(t.store, "node-a", first);
    a.runner.start();
    expect(await a.runner.waitFor(20, 20_000)).toBe(true);
    expect(parkedCount(await a.runner.status())).toBe(1);
    const attemptsOnA = (await a.runner.status()).parked!.keys[0].attempts;
    await a.runner.stop();
    // The process goes away: the store is closed and opened again from where it lives.
    await t.store.close();
    t = await openTestStore(kind, { location: t.location });
    log = t.store.log("test");
    // Meanwhile more arrives, for the parked key and for others.
    await append(log, ["c", "a", "c", "d"]);

    const second = new SideEffects();
    second.refuse = (e) => e.stream === "k-c";
    const b = subscription(t.store, "node-b", second);
    b.runner.start();
    expect(await b.runner.waitFor(24, 20_000)).toBe(true);
    const parked = (await b.runner.status()).parked;
    expect(parked?.keys[0]).toMatchObject({ key: "k-c", pending: 7 });
    // The new node retries it itself (backoff), and fixed, the key drains in order.
    await until(
      "a retry round on the new node",
      async () => ((await b.runner.status()).parked?.keys[0]?.attempts ?? 0) > attemptsOnA,
    );
    second.refuse = () => false;
    await until("the parked key to drain on the new node", async () => parkedCount(await b.runner.status()) === 0);

    const ran = [...first.ran, ...second.ran];
    const all = (await log.readFrom(0, 100)).map((c) => c.pos);
    expect(ran.map((e) => e.pos).sort((x, y) => x - y)).toEqual(all);
    expect(second.positionsOf("k-c")).toEqual(await positionsOfStream(log, "k-c"));
    await b.runner.stop();
  });

  test("another node taking over the lease continues with the parked keys", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    await append(log, ["a", "b", "a", "b"]);
    // One provider behind both nodes.
    const effects = new SideEffects();
    effects.refuse = (e) => e.stream === "k-a";
    const a = subscription(t.store, "node-a", effects);
    const b = subscription(t.store, "node-b", effects);
    a.runner.start();
    expect(await a.runner.waitFor(4, 20_000)).toBe(true);
    b.runner.start();
    // B stands by while A holds the lease, and reports the same parked key: the store is the truth.
    await until("node-b to stand by", async () => (await b.runner.status()).state === "standby");
    expect((await b.runner.status()).parked?.keys.map((k) => [k.key, k.pending])).toEqual([["k-a", 2]]);

    await a.runner.stop();
    await append(log, ["a", "b"]);
    b.runner.wake();
    expect(await b.runner.waitFor(6, 20_000)).toBe(true);
    expect((await b.runner.status()).parked?.keys[0]).toMatchObject({ key: "k-a", pending: 3 });
    effects.refuse = () => false;
    await until("node-b to drain the parked key", async () => parkedCount(await b.runner.status()) === 0);
    expect(effects.positionsOf("k-a")).toEqual(await positionsOfStream(log, "k-a"));
    expect(effects.positionsOf("k-b")).toEqual(await positionsOfStream(log, "k-b"));
    await b.runner.stop();
  });

  test("a batch that comes again after a crash queues nothing twice and nothing that already ran", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    await append(log, ["a", "a", "b", "a", "a"]);
    const aPositions = await positionsOfStream(log, "k-a");
    const effects = new SideEffects();
    effects.refuse = (e) => e.pos === aPositions[1];
    const { handler } = subscription(t.store, "me", effects);
    const batch = await log.readFrom(0, 10);
    // The checkpoint never moved (the process died before it could): the same batch twice.
    await handler.handle(batch);
    await handler.handle(batch);
    const parked = await new ParkedKeys(t.store, SUBSCRIPTION).get("k-a");
    expect(parked?.events.map((e) => e.pos)).toEqual(aPositions.slice(1));
    // The first event of "a" ran before the key was parked, and is not queued behind it.
    expect(effects.positionsOf("k-a")).toEqual([aPositions[0]]);
  });

  test("projections and unpartitioned subscriptions still halt on a poison event", async () => {
    t = await openTestStore(kind);
    const log = t.store.log("test");
    await append(log, ["a", "b", "c"]);
    const poison = (await log.readStream("k-b"))[0].pos;
    const base = counterProjection();
    const docs = t.store.collection<CounterDoc>("halting");
    const halting = (name: string, handle: RunnerOptions["handle"]) =>
      new Runner({
        name,
        log,
        checkpoints: new Checkpoints(t.store),
        owner: "me",
        logger: silentLogger,
        pollMs: 20,
        retryDelayMs: 5,
        handle,
      });
    const projection = halting("test.projection", (commits) =>
      applyBatch<CounterDoc>(
        {
          ...base,
          apply: (event, view) => {
            if (event.pos === poison) throw new Error("cannot apply poison");
            return base.apply(event, view);
          },
        },
        t.store,
        docs.name,
        commits,
      ),
    );
    const effects = new SideEffects();
    effects.refuse = (e) => e.pos === poison;
    const plain = halting("test.plain-subscription", async (commits) => {
      for (const event of commits.flatMap((commit) => eventsOf(commit))) await effects.run(event);
    });
    projection.start();
    plain.start();
    for (const runner of [projection, plain]) {
      await until(`${runner.name} to halt`, async () => (await runner.status()).state === "halted");
      const status = await runner.status();
      expect(status).toMatchObject({ pos: poison - 1, fault: { pos: poison } });
      expect(status.parked).toBeUndefined();
    }
    await Promise.all([projection.stop(), plain.stop()]);
  });
});
