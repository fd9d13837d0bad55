import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handleCommand, type Decider } from "../../../lib/eventlog/decider";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";

type Command = { type: "Add"; n: number };
type Added = { type: "Added"; data: { n: number; tags: string[] } };
const adder: Decider<Command, Added, number> = {
  initialState: () => 0,
  decide: (command) => [{ type: "Added", data: { n: command.n, tags: ["a"] } }],
  evolve: (state, event) => state + event.data.n,
};

/**
 * The embedded log keeps its newest commits in memory (RecentCommits, 4096 per log): what it
 * reads from there must be exactly what the table holds, across the edge of that window.
 */
describe("embedded log: the newest commits from memory", () => {
  let store: EmbeddedStore;
  afterEach(() => store?.close());

  it("reads the same from memory as from the table, on both sides of the window's edge", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "recent-commits-"));
    store = await EmbeddedStore.open({ dataDir, logs: ["l"] });
    let log = store.log("l");
    // 5,000 commits over 50 streams: the first ones fall out of the window.
    for (let i = 0; i < 5000; i++) await handleCommand(log, adder, `s${i % 50}`, { type: "Add", n: i });
    const reads = async () => ({
      from: await Promise.all([0, 903, 904, 905, 2000, 4990, 5000].map((after) => log.readFrom(after, 50))),
      streams: await Promise.all(
        (
          [
            ["s0", 0],
            ["s7", 95],
            ["s49", 99],
            ["s3", 100],
          ] as const
        ).map(([s, after]) => log.readStream(s, after)),
      ),
    });
    const fromMemory = await reads();
    expect(fromMemory.from[5].map((c) => c.pos)).toEqual([4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000]);
    await store.close();
    // Reopened, the log holds nothing in memory: everything comes from the table.
    store = await EmbeddedStore.open({ dataDir, logs: ["l"] });
    log = store.log("l");
    expect(await reads()).toEqual(fromMemory);
  });

  it("hands out commits nobody can change", async () => {
    store = await EmbeddedStore.open({ logs: ["l"] });
    const log = store.log("l");
    await handleCommand(log, adder, "s", { type: "Add", n: 1 });
    const [first] = await log.readFrom(0, 10);
    expect(() => {
      (first.events[0].data as { tags: string[] }).tags.push("b");
    }).toThrow(TypeError);
    expect((await log.readStream("s"))[0].events[0].data).toEqual({ n: 1, tags: ["a"] });
  });
});
