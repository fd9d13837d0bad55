import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitId, type Commit } from "../../../lib/eventlog/types";
import {
  findLegacyData,
  migrateLegacyData,
  readLegacyCollection,
  readLegacyJournal,
  retireLegacyFiles,
  type LegacyImportTarget,
} from "../../../lib/store/embedded/legacy-data";
import type { Doc, IndexSpec } from "../../../lib/store/types";

function commit(pos: number, stream = `order-${pos % 7}`): Commit {
  return {
    _id: commitId(stream, pos),
    stream,
    seq: pos,
    pos,
    at: 1_700_000_000_000 + pos,
    ...(pos % 2 ? { commandId: `cmd-${pos}` } : {}),
    meta: { actor: "system" },
    events: [{ id: `ev-${pos}`, type: "OrderPlaced", data: { n: pos } }],
  };
}

const line = (value: unknown) => JSON.stringify(value) + "\n";
const journal = (count: number) => Array.from({ length: count }, (_, i) => line(commit(i + 1))).join("");

async function readAll(file: string, batchSize = 3): Promise<Commit[][]> {
  const batches: Commit[][] = [];
  for await (const batch of readLegacyJournal(file, batchSize)) batches.push(batch);
  return batches;
}

/** Records what a migration hands over, as the SQLite store would receive it. */
class RecordingTarget implements LegacyImportTarget {
  readonly commits = new Map<string, Commit[]>();
  readonly docs = new Map<string, Doc[]>();
  readonly indexes = new Map<string, IndexSpec[]>();
  failOnLog: string | null = null;

  importCommits(log: string, commits: Commit[]): void {
    if (log === this.failOnLog) throw new Error("disk full");
    this.commits.set(log, [...(this.commits.get(log) ?? []), ...commits]);
  }
  importDocs(collection: string, docs: Doc[]): void {
    this.docs.set(collection, [...(this.docs.get(collection) ?? []), ...docs]);
  }
  async ensureIndex(collection: string, spec: IndexSpec): Promise<void> {
    this.indexes.set(collection, [...(this.indexes.get(collection) ?? []), spec]);
  }
}

/** Every file under `dir` with its bytes: "the old files are exactly as they were". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(dir.length)] = readFileSync(path, "base64");
    }
  }
  return out;
}

describe("legacy data directory (journals + NeDB files)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "legacy-data-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("finds the old logs and collections, and nothing that is not a store file", () => {
    expect(findLegacyData(join(dir, "missing"))).toEqual({ logs: [], collections: [], leftovers: [] });
    expect(findLegacyData(dir)).toEqual({ logs: [], collections: [], leftovers: [] });

    writeFileSync(join(dir, "sales.commits.jsonl"), journal(2));
    writeFileSync(join(dir, "orders_g1.db"), line({ _id: "o1" }));
    // A compaction that crashed before its rename: NeDB would load the copy.
    writeFileSync(join(dir, "tickets_g1.db~"), line({ _id: "t1" }));
    // A compaction that crashed after writing its copy: the datafile is whole, the copy stale.
    writeFileSync(join(dir, "checkpoints.db"), line({ _id: "c", pos: 1 }));
    writeFileSync(join(dir, "checkpoints.db~"), "");
    writeFileSync(join(dir, "LOCK"), "123");
    writeFileSync(join(dir, "yookassa-simulator.json"), "{}");
    writeFileSync(join(dir, "store.sqlite"), "");
    mkdirSync(join(dir, "dev-issuer"));
    writeFileSync(join(dir, "dev-issuer", "keys.json"), "{}");
    mkdirSync(join(dir, "mail.db"));

    const found = findLegacyData(dir);
    expect(found.logs).toEqual([
      { name: "sales", path: join(dir, "sales.commits.jsonl"), size: statSync(join(dir, "sales.commits.jsonl")).size },
    ]);
    expect(found.collections.map((c) => [c.name, c.path])).toEqual([
      ["checkpoints", join(dir, "checkpoints.db")],
      ["orders_g1", join(dir, "orders_g1.db")],
      ["tickets_g1", join(dir, "tickets_g1.db~")],
    ]);
    expect(found.collections[1].size).toBe(statSync(join(dir, "orders_g1.db")).size);
    expect(found.leftovers).toEqual([join(dir, "checkpoints.db~")]);
  });

  test("a journal is read in position order, in batches; a torn last line is dropped", async () => {
    const file = join(dir, "sales.commits.jsonl");
    writeFileSync(file, journal(7) + line(commit(8)).slice(0, 40));
    const torn: number[] = [];
    const batches: Commit[][] = [];
    for await (const batch of readLegacyJournal(file, 3, (n) => torn.push(n))) batches.push(batch);
    expect(batches.map((b) => b.map((c) => c.pos))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(torn).toEqual([8]);
    expect(batches[0][0]).toEqual(commit(1));
    // Read only: the torn line is still in the old file.
    expect(readFileSync(file, "utf8")).toBe(journal(7) + line(commit(8)).slice(0, 40));
  });

  test("a whole last commit whose newline was lost is kept, as the old store did", async () => {
    const file = join(dir, "sales.commits.jsonl");
    writeFileSync(file, journal(3).slice(0, -1));
    expect((await readAll(file)).flat().map((c) => c.pos)).toEqual([1, 2, 3]);
    writeFileSync(file, "");
    expect(await readAll(file)).toEqual([]);
  });

  test("a bad line in the middle of a journal is corruption, named by file and line", async () => {
    const file = join(dir, "sales.commits.jsonl");
    const lines = journal(6).split("\n");
    lines[3] = lines[3].slice(0, 25);
    writeFileSync(file, lines.join("\n"));
    await expect(readAll(file)).rejects.toThrow(`${file}: line 4 is not valid JSON and is not the last line`);

    writeFileSync(file, journal(2) + line(commit(4)));
    await expect(readAll(file)).rejects.toThrow(`${file}: line 3 holds position 4`);
    writeFileSync(file, journal(2) + line({ hello: "world" }) + line(commit(4)));
    await expect(readAll(file)).rejects.toThrow(`${file}: line 3 is not a commit`);
  });

  test("a journal of 200k commits is streamed: the first batch comes long before the file has been read", async () => {
    // A named pipe has no end until its writer says so, so a reader that loads the whole file
    // before answering would get its first batch only after the last commit was written.
    const fifo = join(dir, "sales.commits.jsonl");
    execFileSync("mkfifo", [fifo]);
    const total = 200_000;
    let written = 0;
    const writer = (async () => {
      const out = createWriteStream(fifo);
      for (let pos = 1; pos <= total; pos++) {
        written = pos;
        if (!out.write(line(commit(pos)))) await once(out, "drain");
      }
      out.end();
      await once(out, "close");
    })();
    const writtenAtBatch: number[] = [];
    let next = 1;
    let ordered = true;
    for await (const batch of readLegacyJournal(fifo, 1000)) {
      writtenAtBatch.push(written);
      expect(batch.length).toBeLessThanOrEqual(1000);
      for (const c of batch) ordered &&= c.pos === next++;
    }
    await writer;
    expect(ordered).toBe(true);
    expect(next - 1).toBe(total);
    expect(writtenAtBatch).toHaveLength(total / 1000);
    expect(writtenAtBatch[0]).toBeLessThan(total / 2);
  }, 120_000);

  test("a collection is what NeDB loaded: later lines win, deletions apply, dates are milliseconds, indexes as left", async () => {
    const file = join(dir, "orders_g1.db");
    writeFileSync(
      file,
      [
        line({ $$indexCreated: { fieldName: "eventId", unique: false, sparse: false } }),
        line({ _id: "o1", status: "pending", createdAt: { $$date: 1_700_000_000_000 } }),
        line({ _id: "o2", status: "paid", tickets: [{ id: "t1", usedAt: { $$date: 1_700_000_000_500 } }] }),
        line({ $$indexCreated: { fieldName: "barcode", unique: true, sparse: true } }),
        line({ $$indexCreated: { fieldName: "gone", unique: false, sparse: false } }),
        line({ _id: "o3", status: "pending" }),
        line({ _id: "o1", status: "paid", createdAt: { $$date: 1_700_000_000_000 } }),
        line({ $$deleted: true, _id: "o3" }),
        "\n",
        line({ $$indexRemoved: "gone" }),
        line({ _id: "o4", status: "pending" }).slice(0, 20),
      ].join(""),
    );
    const torn: number[] = [];
    const { docs, indexes } = await readLegacyCollection(file, (n) => torn.push(n));
    expect(torn).toEqual([11]);
    expect(docs).toEqual([
      { _id: "o2", status: "paid", tickets: [{ id: "t1", usedAt: 1_700_000_000_500 }] },
      { _id: "o1", status: "paid", createdAt: 1_700_000_000_000 },
    ]);
    expect(indexes).toEqual([
      { field: "eventId", unique: false, sparse: false },
      { field: "barcode", unique: true, sparse: true },
    ]);
  });

  test("a bad line in the middle of a collection is corruption, named by file and line", async () => {
    const file = join(dir, "orders_g1.db");
    writeFileSync(file, line({ _id: "o1" }) + '{"_id":"o2","sta\n' + line({ _id: "o3" }));
    await expect(readLegacyCollection(file)).rejects.toThrow(`${file}: line 2 is not valid JSON and is not the last line`);
    writeFileSync(file, line({ _id: "o1" }) + line([1, 2]));
    await expect(readLegacyCollection(file)).rejects.toThrow(`${file}: line 2 is not a document`);
  });

  test("a migration hands over every log and collection and tells how far it is", async () => {
    writeFileSync(join(dir, "sales.commits.jsonl"), journal(120_000));
    writeFileSync(join(dir, "users.commits.jsonl"), journal(3) + "{torn");
    writeFileSync(
      join(dir, "checkpoints.db"),
      line({ $$indexCreated: { fieldName: "owner", unique: false, sparse: false } }) +
        line({ _id: "sales.orders@g1", pos: 120_000, updatedAt: 5 }) +
        line({ _id: "users.users@g1", pos: 3, updatedAt: 6 }),
    );
    writeFileSync(join(dir, "parked_keys.db"), "");
    const target = new RecordingTarget();
    const messages: string[] = [];

    const counts = await migrateLegacyData(dir, target, (m) => messages.push(m));

    expect(counts).toEqual({ commits: { sales: 120_000, users: 3 }, docs: { checkpoints: 2, parked_keys: 0 } });
    const sales = target.commits.get("sales")!;
    expect(sales).toHaveLength(120_000);
    expect(sales.every((c, i) => c.pos === i + 1)).toBe(true);
    expect(sales[41]).toEqual(commit(42));
    expect(target.commits.get("users")).toEqual([commit(1), commit(2), commit(3)]);
    expect(target.docs.get("checkpoints")).toEqual([
      { _id: "sales.orders@g1", pos: 120_000, updatedAt: 5 },
      { _id: "users.users@g1", pos: 3, updatedAt: 6 },
    ]);
    expect(target.indexes.get("checkpoints")).toEqual([{ field: "owner", unique: false, sparse: false }]);

    expect(messages[0]).toMatch(/^migrating the data directory .* 2 event logs and 2 collections \(\d+\.\d MB\)/);
    expect(messages).toContainEqual(expect.stringMatching(/^event log users: users.commits.jsonl \(1 KB\)$/));
    expect(messages).toContainEqual(expect.stringMatching(/^event log sales: sales.commits.jsonl \(\d+\.\d MB\)$/));
    expect(messages).toContainEqual("collection checkpoints: checkpoints.db (1 KB)");
    expect(messages).toContainEqual("collection parked_keys: parked_keys.db (0 KB)");
    const steps = messages.filter((m) => /^sales.commits.jsonl: \d+ of about \d+ commits \(\d+%\)$/.test(m));
    // About every 5%: roughly twenty lines, each further along than the one before.
    expect(steps.length).toBeGreaterThanOrEqual(15);
    expect(steps.length).toBeLessThanOrEqual(21);
    const shares = steps.map((m) => Number(/\((\d+)%\)/.exec(m)![1]));
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    const estimates = steps.map((m) => Number(/about (\d+)/.exec(m)![1]));
    for (const estimate of estimates) expect(Math.abs(estimate - 120_000)).toBeLessThan(12_000);
    expect(messages).toContainEqual(
      "users.commits.jsonl: its last line (4) is torn, a write cut short when the process stopped; it is left out, as the old store did",
    );
    expect(messages.at(-1)).toBe("read 120003 commits and 2 documents from the old files");
  });

  test("a failed migration leaves the old files exactly as they were", async () => {
    writeFileSync(join(dir, "sales.commits.jsonl"), journal(10) + "{torn");
    const broken = journal(5).split("\n");
    broken[1] = "not json";
    writeFileSync(join(dir, "users.commits.jsonl"), broken.join("\n"));
    writeFileSync(join(dir, "orders_g1.db"), line({ _id: "o1" }) + "{torn");
    const before = snapshot(dir);

    await expect(migrateLegacyData(dir, new RecordingTarget(), () => undefined)).rejects.toThrow(
      `${join(dir, "users.commits.jsonl")}: line 2 is not valid JSON`,
    );
    expect(snapshot(dir)).toEqual(before);

    writeFileSync(join(dir, "users.commits.jsonl"), journal(5));
    const failing = new RecordingTarget();
    failing.failOnLog = "sales";
    const before2 = snapshot(dir);
    await expect(migrateLegacyData(dir, failing, () => undefined)).rejects.toThrow("disk full");
    expect(snapshot(dir)).toEqual(before2);
  });

  test("retiring moves only the old store files into legacy-<time>/ and says where they are", () => {
    writeFileSync(join(dir, "sales.commits.jsonl"), journal(2));
    writeFileSync(join(dir, "orders_g1.db"), line({ _id: "o1" }));
    writeFileSync(join(dir, "checkpoints.db"), line({ _id: "c" }));
    writeFileSync(join(dir, "checkpoints.db~"), "");
    writeFileSync(join(dir, "LOCK"), "1");
    writeFileSync(join(dir, "store.sqlite"), "new");
    mkdirSync(join(dir, "dev-issuer"));
    writeFileSync(join(dir, "dev-issuer", "keys.json"), "{}");
    const messages: string[] = [];

    const legacyDir = retireLegacyFiles(dir, findLegacyData(dir), (m) => messages.push(m), new Date("2026-12-06T18:00:00.123Z"));

    expect(legacyDir).toBe(join(dir, "legacy-2026-12-06T18-00-00-123Z"));
    expect(readdirSync(legacyDir).sort()).toEqual(["checkpoints.db", "checkpoints.db~", "orders_g1.db", "sales.commits.jsonl"]);
    expect(readFileSync(join(legacyDir, "sales.commits.jsonl"), "utf8")).toBe(journal(2));
    expect(readdirSync(dir).sort()).toEqual(["LOCK", "dev-issuer", "legacy-2026-12-06T18-00-00-123Z", "store.sqlite"]);
    expect(findLegacyData(dir)).toEqual({ logs: [], collections: [], leftovers: [] });
    expect(messages).toEqual([
      `migration done; the old store files (4) are kept in ${legacyDir} and can be deleted once you no longer need them`,
    ]);
  });
});
