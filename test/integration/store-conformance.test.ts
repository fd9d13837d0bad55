import { Checkpoints, LeaseLostError } from "../../lib/eventlog/checkpoints";
import { handleCommand } from "../../lib/eventlog/decider";
import { DuplicateKeyError, VersionConflictError, type Doc } from "../../lib/store/types";
import { counterDecider } from "./../support/counter";
import { STRICT_BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../support/stores";

/**
 * The same contract, run against every backend: nothing may behave differently. MongoDB runs
 * on both test servers: the Java one accepts commands a real MongoDB refuses, FerretDB does not.
 */
describe.each(STRICT_BACKENDS)("store conformance: %s", (kind) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(kind);
  });
  afterEach(async () => {
    await disposeTestStore(t);
  });
  const log = () => t.store.log("test");
  const ev = (n: number) => [{ type: "Happened", data: { n } }];

  test("appends get stream versions and contiguous global positions", async () => {
    const a1 = await log().append({ stream: "a", expectedSeq: 0, events: ev(1) });
    const b1 = await log().append({ stream: "b", expectedSeq: 0, events: ev(2) });
    const a2 = await log().append({ stream: "a", expectedSeq: 1, events: [...ev(3), ...ev(4)] });
    expect([a1.commit.seq, b1.commit.seq, a2.commit.seq]).toEqual([1, 1, 2]);
    expect([a1.commit.pos, b1.commit.pos, a2.commit.pos]).toEqual([1, 2, 3]);
    expect(a2.commit.events.map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }]);
    expect(new Set(a2.commit.events.map((e) => e.id)).size).toBe(2);
    expect(await log().head()).toBe(3);
    expect((await log().readStream("a")).map((c) => c.seq)).toEqual([1, 2]);
    expect((await log().readStream("a", 1)).map((c) => c.pos)).toEqual([3]);
    expect((await log().readFrom(1, 10)).map((c) => c.pos)).toEqual([2, 3]);
    expect((await log().readFrom(0, 2)).map((c) => c.pos)).toEqual([1, 2]);
    expect(await log().readFrom(3, 10)).toEqual([]);
  });

  test("a stale expected version is a conflict and writes nothing", async () => {
    await log().append({ stream: "a", expectedSeq: 0, events: ev(1) });
    await expect(log().append({ stream: "a", expectedSeq: 0, events: ev(2) })).rejects.toBeInstanceOf(VersionConflictError);
    await expect(log().append({ stream: "a", expectedSeq: 5, events: ev(2) })).rejects.toBeInstanceOf(VersionConflictError);
    expect(await log().head()).toBe(1);
    expect((await log().readStream("a")).length).toBe(1);
  });

  test("concurrent writers on one stream: exactly one wins each version", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => log().append({ stream: "hot", expectedSeq: 0, events: ev(i) })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(VersionConflictError);
    expect(await log().head()).toBe(1);
  });

  test("a repeated command id is answered with the first commit and writes nothing", async () => {
    const first = await log().append({ stream: "a", expectedSeq: 0, events: ev(1), commandId: "cmd-1" });
    const again = await log().append({ stream: "a", expectedSeq: 1, events: ev(9), commandId: "cmd-1" });
    expect(again.duplicate).toBe(true);
    expect(again.commit).toEqual(first.commit);
    expect(await log().head()).toBe(1);
    expect(await log().findByCommandId("cmd-1")).toEqual(first.commit);
    expect(await log().findByCommandId("cmd-2")).toBeNull();
    // Commits without a command id never collide with each other on the sparse index.
    await log().append({ stream: "b", expectedSeq: 0, events: ev(2) });
    await log().append({ stream: "c", expectedSeq: 0, events: ev(3) });
    expect(await log().head()).toBe(3);
  });

  test("the same command id sent twice at once is written once", async () => {
    const [x, y] = await Promise.all([
      log().append({ stream: "a", expectedSeq: 0, events: ev(1), commandId: "twin" }),
      log().append({ stream: "a", expectedSeq: 0, events: ev(1), commandId: "twin" }),
    ]);
    expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
    expect(x.commit._id).toBe(y.commit._id);
    expect(await log().head()).toBe(1);
  });

  test("command handling retries on a version conflict only and keeps the rule", async () => {
    const run = (i: number) =>
      handleCommand(log(), counterDecider, "counter-1", { key: "k", by: 1, limit: 5 }, { commandId: `c${i}` });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => run(i)));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(ok).toHaveLength(5);
    expect(refused.map((r) => (r.reason as { type?: string }).type)).toEqual(["LIMIT_REACHED", "LIMIT_REACHED", "LIMIT_REACHED"]);
    // Which commands win depends on timing: repeat one that did.
    const again = await run(results.findIndex((r) => r.status === "fulfilled"));
    expect(again.duplicate).toBe(true);
    expect((await log().readStream("counter-1")).length).toBe(5);
  });

  test("documents: unique ids, compare-and-set replace, queries", async () => {
    type Item = Doc & { n: number; tag: string; v: number };
    const items = t.store.collection<Item>("items");
    for (let n = 1; n <= 5; n++) await items.insert({ _id: `i${n}`, n, tag: n % 2 ? "odd" : "even", v: 1 });
    await expect(items.insert({ _id: "i1", n: 1, tag: "odd", v: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await items.replaceOne({ _id: "i1", v: 1 }, { _id: "i1", n: 10, tag: "odd", v: 2 })).toBe(true);
    expect(await items.replaceOne({ _id: "i1", v: 1 }, { _id: "i1", n: 99, tag: "odd", v: 2 })).toBe(false);
    expect((await items.get("i1"))?.n).toBe(10);
    expect(await items.updateOne({ _id: "i2", v: 1 }, { tag: "two" })).toBe(true);
    expect(await items.updateOne({ _id: "nope" }, { tag: "x" })).toBe(false);
    await items.upsert({ _id: "i9", n: 9, tag: "new", v: 1 });
    await items.upsert({ _id: "i9", n: 9, tag: "newer", v: 2 });
    expect(await items.get("i9")).toEqual({ _id: "i9", n: 9, tag: "newer", v: 2 });
    await items.deleteOne({ _id: "i9" });
    expect((await items.find({ tag: "odd" }, { sort: { n: -1 } })).map((d) => d._id)).toEqual(["i1", "i5", "i3"]);
    expect((await items.find({ n: { $gte: 2 } }, { sort: { n: 1 }, skip: 1, limit: 2 })).map((d) => d.n)).toEqual([3, 4]);
    expect(await items.count({ $or: [{ tag: "two" }, { n: { $in: [4, 5] } }] })).toBe(3);
    expect(await items.deleteMany({ tag: "odd" })).toBe(3);
    expect(await items.count({})).toBe(2);
    await items.ensureIndex({ field: "code", unique: true, sparse: true });
    await items.insert({ _id: "j1", n: 1, tag: "x", v: 1, code: "A" } as Item);
    await items.insert({ _id: "j2", n: 1, tag: "x", v: 1 });
    await expect(items.insert({ _id: "j3", n: 1, tag: "x", v: 1, code: "A" } as Item)).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  test("indexes: a plain one (neither unique nor sparse) is created and changes no answer", async () => {
    type Item = Doc & { tag: string };
    const items = t.store.collection<Item>("plain");
    await items.insert({ _id: "a", tag: "x" });
    await items.ensureIndex({ field: "tag" });
    await items.ensureIndex({ field: "tag" }); // start-up runs it again on every node
    await items.insert({ _id: "b", tag: "x" });
    expect((await items.find({ tag: "x" }, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(["a", "b"]);
  });

  test("documents: a field left undefined is absent, not null", async () => {
    type Item = Doc & { n: number; note?: string };
    const items = t.store.collection<Item>("optional");
    await items.insert({ _id: "a", n: 1, note: undefined });
    await items.upsert({ _id: "b", n: 2, note: undefined });
    await items.insert({ _id: "c", n: 3, note: "kept" });
    expect(await items.replaceOne({ _id: "c" }, { _id: "c", n: 4, note: undefined })).toBe(true);
    expect(await items.updateOne({ _id: "a" }, { n: 5, note: undefined })).toBe(true);
    expect(await items.find({}, { sort: { _id: 1 } })).toEqual([
      { _id: "a", n: 5 },
      { _id: "b", n: 2 },
      { _id: "c", n: 4 },
    ]);
    expect(await items.count({ note: { $exists: true } })).toBe(0);
  });

  test.each([false, true])("queries mean what they mean on MongoDB (indexed fields: %s)", async (indexed) => {
    type Order = Doc & {
      userId?: string | null;
      tags?: string[];
      refunds?: Array<{ status: string }>;
      total?: number;
      note?: string;
    };
    const orders = t.store.collection<Order>(`semantics_${indexed}`);
    // Indexed before the documents come, but "refunds.status" after (it holds arrays already).
    if (indexed) for (const field of ["userId", "total", "tags"]) await orders.ensureIndex({ field });
    await orders.insert({
      _id: "a",
      userId: "u1",
      tags: ["vip", "early"],
      refunds: [{ status: "done" }, { status: "pending" }],
      total: 10,
    });
    await orders.insert({ _id: "b", userId: "u2", tags: ["early"], refunds: [], total: 20, note: "Привет, Мир" });
    await orders.insert({ _id: "c", userId: null, total: 30 });
    await orders.insert({ _id: "d", total: 5 });
    if (indexed) await orders.ensureIndex({ field: "refunds.status" });
    const ids = async (filter: Record<string, unknown>) => (await orders.find(filter, { sort: { _id: 1 } })).map((d) => d._id);
    // An array field matches when one element does; so does a path through an array of objects.
    expect(await ids({ tags: "vip" })).toEqual(["a"]);
    expect(await ids({ tags: { $in: ["early", "late"] } })).toEqual(["a", "b"]);
    expect(await ids({ "refunds.status": "pending" })).toEqual(["a"]);
    // null matches a missing field too; $ne and $nin match documents without the field.
    expect(await ids({ userId: null })).toEqual(["c", "d"]);
    expect(await ids({ userId: { $ne: "u1" } })).toEqual(["b", "c", "d"]);
    expect(await ids({ userId: { $nin: ["u1", "u2"] } })).toEqual(["c", "d"]);
    expect(await ids({ note: { $exists: true } })).toEqual(["b"]);
    expect(await ids({ total: { $gt: 5, $lte: 20 } })).toEqual(["a", "b"]);
    expect(await ids({ note: /мир/i })).toEqual(["b"]);
    expect(await ids({ $or: [{ tags: "vip" }, { total: { $lt: 6 } }] })).toEqual(["a", "d"]);
    expect((await orders.find({}, { sort: { total: -1 }, skip: 1, limit: 2 })).map((d) => d._id)).toEqual(["b", "a"]);
    expect(await orders.count({ total: { $gte: 10 } })).toBe(3);
  });

  test("checkpoints: one lease holder, compare-and-set advance, fencing after a lapse", async () => {
    let now = 1_000_000;
    const cps = new Checkpoints(t.store, () => now);
    expect((await cps.acquire("r", "A", 1000))?.pos).toBe(0);
    expect(await cps.acquire("r", "B", 1000)).toBeNull();
    await cps.advance("r", "A", 0, 5, 1000);
    await expect(cps.advance("r", "A", 0, 7, 1000)).rejects.toBeInstanceOf(LeaseLostError);
    now += 5000; // A stalls past its lease; B takes over and moves on
    expect((await cps.acquire("r", "B", 1000))?.pos).toBe(5);
    await cps.advance("r", "B", 5, 10, 1000);
    await expect(cps.advance("r", "A", 5, 7, 1000)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(cps.renew("r", "A", 5, 1000)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await cps.get("r"))?.pos).toBe(10);
    expect((await cps.get("r"))?.owner).toBe("B");
  });
});
