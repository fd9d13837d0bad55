import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Commit } from "../../../lib/eventlog/types";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";
import { readLegacyCollection, readLegacyJournal } from "../../../lib/store/embedded/legacy-data";

const FIXTURE = join(__dirname, "..", "..", "fixtures", "legacy-data-dir");
const STORE_FILES = readdirSync(FIXTURE).filter((f) => f.endsWith(".commits.jsonl") || f.endsWith(".db"));
const LOG_NAMES = STORE_FILES.filter((f) => f.endsWith(".commits.jsonl")).map((f) => f.slice(0, -".commits.jsonl".length));

async function journalOf(file: string): Promise<Commit[]> {
  const commits: Commit[] = [];
  for await (const batch of readLegacyJournal(file, 5)) commits.push(...batch);
  return commits;
}

/** The SQLite store opened on a data directory of the store before it (the fixture of a real quick start). */
describe("EmbeddedStore.open on an old data directory", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "legacy-open-"));
    for (const file of STORE_FILES) cpSync(join(FIXTURE, file), join(dir, file));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("every commit is kept exactly (ids, positions, times, command ids) and every document as NeDB had it", async () => {
    const progress: string[] = [];
    const store = await EmbeddedStore.open({ dataDir: dir, logs: LOG_NAMES, onProgress: (m) => progress.push(m) });
    const legacyDir = readdirSync(dir).find((f) => f.startsWith("legacy-"))!;
    try {
      for (const log of LOG_NAMES) {
        const old = await journalOf(join(dir, legacyDir, `${log}.commits.jsonl`));
        expect(old.length).toBeGreaterThan(0);
        expect(await store.log(log).readFrom(0, 10_000)).toEqual(old);
        expect(await store.log(log).head()).toBe(old.length);
        const last = old[old.length - 1];
        if (last.commandId) expect(await store.log(log).findByCommandId(last.commandId)).toEqual(last);
      }
      for (const file of STORE_FILES.filter((f) => f.endsWith(".db"))) {
        const { docs, indexes } = await readLegacyCollection(join(dir, legacyDir, file));
        const collection = store.collection(file.slice(0, -".db".length));
        const byId = (a: { _id: string }, b: { _id: string }) => a._id.localeCompare(b._id);
        expect((await collection.find({})).sort(byId)).toEqual([...docs].sort(byId));
        // The indexes are there: a unique one refuses a second document with the same value.
        for (const spec of indexes.filter((s) => s.unique && docs.length > 0)) {
          const taken = docs.find((d) => (d as unknown as Record<string, unknown>)[spec.field] !== undefined)!;
          await expect(collection.insert({ ...taken, _id: `${taken._id}-copy` } as typeof taken)).rejects.toMatchObject({
            name: "DuplicateKeyError",
          });
        }
      }
    } finally {
      await store.close();
    }
    // The database and the old files kept aside; no side file of the import is left.
    expect(readdirSync(dir).sort()).toEqual([legacyDir, "store.sqlite"]);
    expect(progress[0]).toMatch(/^migrating the data directory /);
    expect(progress.at(-1)).toMatch(/^migration done; the old store files \(\d+\) are kept in /);
  });

  test("old files left beside a migrated database are moved aside, not imported a second time", async () => {
    const first = await EmbeddedStore.open({ dataDir: dir, logs: LOG_NAMES });
    const head = await first.log("sales").head();
    await first.close();
    // As if the process stopped between the rename and moving the old files aside.
    const legacyDir = readdirSync(dir).find((f) => f.startsWith("legacy-"))!;
    for (const file of STORE_FILES) cpSync(join(dir, legacyDir, file), join(dir, file));
    // Looks like an old store file, but no migration read it: not ours to move.
    writeFileSync(join(dir, "notes.db"), "kept by someone\n");

    const progress: string[] = [];
    const again = await EmbeddedStore.open({ dataDir: dir, logs: LOG_NAMES, onProgress: (m) => progress.push(m) });
    try {
      expect(await again.log("sales").head()).toBe(head);
    } finally {
      await again.close();
    }
    expect(progress).toEqual([expect.stringMatching(/^migration done; the old store files/)]);
    expect(readdirSync(dir).filter((f) => STORE_FILES.includes(f))).toEqual([]);
    expect(readFileSync(join(dir, "notes.db"), "utf8")).toBe("kept by someone\n");
    expect(readdirSync(dir).filter((f) => f.startsWith("legacy-"))).toHaveLength(2);
  });

  test("a failed migration leaves the old files, no database, and the directory unlocked", async () => {
    const journal = join(dir, "sales.commits.jsonl");
    const good = readFileSync(journal, "utf8");
    writeFileSync(journal, good.replace("\n", "\n{broken\n"));

    await expect(EmbeddedStore.open({ dataDir: dir, logs: LOG_NAMES })).rejects.toThrow(
      `${journal}: line 2 is not valid JSON and is not the last line`,
    );
    expect(readdirSync(dir).sort()).toEqual([...STORE_FILES].sort());
    expect(readFileSync(journal, "utf8")).toBe(good.replace("\n", "\n{broken\n"));

    writeFileSync(journal, good);
    const store = await EmbeddedStore.open({ dataDir: dir, logs: LOG_NAMES });
    try {
      expect(await store.log("sales").head()).toBe(good.split("\n").filter(Boolean).length);
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, "store.sqlite"))).toBe(true);
  });
});
