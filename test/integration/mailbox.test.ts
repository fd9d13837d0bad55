import { BusyError, evictIdle, Mailbox } from "../../lib/eventlog/mailbox";
import { fold } from "../../lib/eventlog/decider";
import { counterDecider, type CounterCommand, type CounterEvent, type CounterState } from "../support/counter";
import { STRICT_BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

describe.each(STRICT_BACKENDS)("hot aggregate mailbox: %s", (kind) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(kind);
  });
  afterEach(async () => disposeTestStore(t));
  const mailbox = (options = {}) =>
    new Mailbox<CounterCommand, CounterEvent, CounterState>(t.store.log("test"), counterDecider, "hot", options);
  const total = async () =>
    fold(counterDecider, counterDecider.initialState(), await t.store.log("test").readStream("hot")).total;

  test("concurrent commands are decided in order and written as a few group commits", async () => {
    const box = mailbox();
    const results = await Promise.all(Array.from({ length: 300 }, () => box.submit({ key: "k", by: 1 })));
    expect(results.every((r) => r.events.length === 1 && r.commit)).toBe(true);
    const commits = await t.store.log("test").readStream("hot");
    expect(commits.length).toBeLessThan(30);
    expect(commits.reduce((n, c) => n + c.events.length, 0)).toBe(300);
    expect(await total()).toBe(300);
  });

  test("a refused command does not touch the state or its batch neighbours", async () => {
    const box = mailbox();
    const results = await Promise.allSettled(Array.from({ length: 80 }, () => box.submit({ key: "k", by: 1, limit: 50 })));
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(50);
    expect(new Set(refused.map((r) => (r.reason as { type: string }).type))).toEqual(new Set(["LIMIT_REACHED"]));
    expect(await total()).toBe(50);
  });

  test("an idle mailbox is evicted, a busy one never; the next one reloads and keeps the limit", async () => {
    const boxes = new Map([["hot", mailbox()]]);
    await Promise.all(Array.from({ length: 30 }, () => boxes.get("hot")!.submit({ key: "k", by: 1, limit: 40 })));
    const pending = boxes.get("hot")!.submit({ key: "k", by: 1, limit: 40 });
    expect(evictIdle(boxes, Date.now() + 1)).toBe(0);
    await pending;
    await new Promise((resolve) => setImmediate(resolve)); // the drain loop ends just after its last answer
    expect(evictIdle(boxes, Date.now() - 60_000)).toBe(0);
    expect(evictIdle(boxes, Date.now() + 1)).toBe(1);
    expect(boxes.size).toBe(0);
    const fresh = mailbox();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => fresh.submit({ key: "k", by: 1, limit: 40 })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(9);
    expect(await total()).toBe(40);
  });

  test("a full mailbox answers busy at once and the refused commands are not applied", async () => {
    const box = mailbox({ maxQueue: 10, maxBatch: 5 });
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => box.submit({ key: "k", by: 1 })));
    const busy = results.filter((r) => r.status === "rejected" && r.reason instanceof BusyError);
    const done = results.filter((r) => r.status === "fulfilled");
    expect(busy.length).toBeGreaterThan(0);
    expect(done.length + busy.length).toBe(60);
    expect(await total()).toBe(done.length);
  });

  test("two mailboxes on one stream (a ring change) never pass the limit: the commit id is the fence", async () => {
    const a = mailbox({ maxReloads: 100 });
    const b = mailbox({ maxReloads: 100 });
    const submit = (box: typeof a) => box.submit({ key: "k", by: 1, limit: 150 });
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => submit(i % 2 ? a : b)));
    const accepted = results.filter((r) => r.status === "fulfilled").length;
    const reasons = (results.filter((r) => r.status === "rejected") as PromiseRejectedResult[]).map(
      (r) => (r.reason as { type?: string }).type,
    );
    expect(accepted).toBe(150);
    expect(reasons.every((type) => type === "LIMIT_REACHED")).toBe(true);
    expect(await total()).toBe(150);
  });
});
