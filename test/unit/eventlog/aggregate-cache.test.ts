import { AggregateCache } from "../../../lib/eventlog/aggregate-cache";
import { handleCommand, loadAggregate, type Decider } from "../../../lib/eventlog/decider";
import type { Commit, EventLog } from "../../../lib/eventlog/types";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";

type Command = { type: "Add"; n: number };
type Added = { type: "Added"; data: { n: number } };
const counter: Decider<Command, Added, { total: number; seen: number[] }> = {
  initialState: () => ({ total: 0, seen: [] }),
  decide: (command) => [{ type: "Added", data: { n: command.n } }],
  // A new state every time, as AggregateCache requires.
  evolve: (state, event) => ({ total: state.total + event.data.n, seen: [...state.seen, event.data.n] }),
};

/** The log, counting how many commits each read handed back. */
function counting(log: EventLog): { log: EventLog; read: () => number } {
  let read = 0;
  return {
    log: {
      ...log,
      name: log.name,
      append: (r) => log.append(r),
      findByCommandId: (id) => log.findByCommandId(id),
      readFrom: (p, l) => log.readFrom(p, l),
      head: () => log.head(),
      async readStream(stream, afterSeq) {
        const commits: Commit[] = await log.readStream(stream, afterSeq);
        read += commits.length;
        return commits;
      },
    },
    read: () => read,
  };
}

describe("aggregate cache", () => {
  let store: EmbeddedStore;
  beforeEach(async () => {
    store = await EmbeddedStore.open({ logs: ["l"] });
  });
  afterEach(() => store.close());

  it("gives what folding the whole stream gives, after every change, reading only the new commits", async () => {
    const log = store.log("l");
    const { log: seen, read } = counting(log);
    const cache = new AggregateCache(seen, counter);
    expect(await cache.load("s")).toEqual({ total: 0, seen: [] });
    for (let i = 1; i <= 5; i++) {
      await handleCommand(log, counter, "s", { type: "Add", n: i });
      expect(await cache.load("s")).toEqual(await loadAggregate(log, counter, "s"));
    }
    // Each commit was handed to the cache once, however often it loaded.
    expect(read()).toBe(5);
    await cache.load("s");
    expect(read()).toBe(5);
  });

  it("keeps streams apart and forgets the least recently used beyond its size", async () => {
    const log = store.log("l");
    const { log: seen, read } = counting(log);
    const cache = new AggregateCache(seen, counter, 2);
    for (const s of ["a", "b", "c"]) await handleCommand(log, counter, s, { type: "Add", n: s.charCodeAt(0) });
    expect((await cache.load("a")).total).toBe(97);
    expect((await cache.load("b")).total).toBe(98);
    expect((await cache.load("c")).total).toBe(99); // a is forgotten
    const before = read();
    expect((await cache.load("a")).total).toBe(97);
    expect(read()).toBe(before + 1);
  });

  it("a slower load overlapping a newer one does not put its older version back", async () => {
    const log = store.log("l");
    const { log: seen, read } = counting(log);
    // The first read answers only when released: it was made before the second commit.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const gated: EventLog = {
      ...seen,
      async readStream(stream, afterSeq) {
        const late = first;
        first = false;
        const commits = await seen.readStream(stream, afterSeq);
        if (late) await gate;
        return commits;
      },
    };
    const cache = new AggregateCache(gated, counter);
    await handleCommand(log, counter, "s", { type: "Add", n: 1 });
    const slow = cache.load("s");
    await handleCommand(log, counter, "s", { type: "Add", n: 2 });
    expect(await cache.load("s")).toEqual({ total: 3, seen: [1, 2] });
    release();
    expect(await slow).toEqual({ total: 1, seen: [1] });
    // The newer version is still the one held: the next load has nothing to read again.
    const before = read();
    expect(await cache.load("s")).toEqual({ total: 3, seen: [1, 2] });
    expect(read()).toBe(before);
  });
});
