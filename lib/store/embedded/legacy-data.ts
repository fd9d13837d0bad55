import { createReadStream, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import type { Commit } from "../../eventlog/types";
import type { Doc, IndexSpec } from "../types";

/**
 * Reads a data directory written by the store before SQLite (an append-only journal per log,
 * one NeDB datafile per collection) so that its content can be imported once. Pure reading: the
 * old files are never written here, so a failed import leaves them exactly as they were.
 */

/** Where the old data goes; implemented by the SQLite store on its "migrating" database. */
export interface LegacyImportTarget {
  /** Commits exactly as they were (ids, pos, at, commandId kept), in pos order, one batch per call, in one transaction. */
  importCommits(log: string, commits: Commit[]): void;
  importDocs(collection: string, docs: Doc[]): void;
  ensureIndex(collection: string, spec: IndexSpec): Promise<void>;
}

export interface LegacyFile {
  /** The log or collection name. */
  name: string;
  path: string;
  size: number;
}

export interface LegacyData {
  logs: LegacyFile[];
  collections: LegacyFile[];
  /** NeDB's temporary copies next to a datafile that exists: nothing to import, retired with the rest. */
  leftovers: string[];
}

export interface LegacyCollection {
  docs: Doc[];
  indexes: IndexSpec[];
}

export interface MigrationCounts {
  commits: Record<string, number>;
  docs: Record<string, number>;
}

const JOURNAL_SUFFIX = ".commits.jsonl";
const NEDB_SUFFIX = ".db";
/** NeDB writes a compacted file as `<file>~` and renames it; a crash in between leaves only the copy. */
const NEDB_TEMP_SUFFIX = ".db~";
const COMMIT_BATCH = 2000;
const DOC_BATCH = 2000;
const PROGRESS_COMMITS = 50_000;
const PROGRESS_SHARE = 0.05;

/** The old store's files in `dataDir` (logs and collections by name), or empty lists. */
export function findLegacyData(dataDir: string): LegacyData {
  const found: LegacyData = { logs: [], collections: [], leftovers: [] };
  let entries: string[];
  try {
    entries = readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return found;
    throw err;
  }
  const names = new Set(entries);
  const file = (name: string, fileName: string): LegacyFile => {
    const path = join(dataDir, fileName);
    return { name, path, size: statSync(path).size };
  };
  for (const entry of entries) {
    if (entry.endsWith(JOURNAL_SUFFIX) && entry.length > JOURNAL_SUFFIX.length) {
      found.logs.push(file(entry.slice(0, -JOURNAL_SUFFIX.length), entry));
    } else if (entry.endsWith(NEDB_SUFFIX) && entry.length > NEDB_SUFFIX.length) {
      found.collections.push(file(entry.slice(0, -NEDB_SUFFIX.length), entry));
    } else if (entry.endsWith(NEDB_TEMP_SUFFIX) && entry.length > NEDB_TEMP_SUFFIX.length) {
      const datafile = entry.slice(0, -1);
      if (names.has(datafile)) found.leftovers.push(join(dataDir, entry));
      else found.collections.push(file(entry.slice(0, -NEDB_TEMP_SUFFIX.length), entry));
    }
  }
  return found;
}

export function isEmptyLegacyData(data: LegacyData): boolean {
  return legacyPaths(data).length === 0;
}

/** Every old file found: what a migration reads, and what is moved aside after it. */
export function legacyPaths(data: LegacyData): string[] {
  return [...data.logs.map((f) => f.path), ...data.collections.map((f) => f.path), ...data.leftovers];
}

interface JournalBatch {
  commits: Commit[];
  /** Bytes of the journal read so far. */
  bytes: number;
}

/**
 * The commits of an old journal in position order, `batchSize` at a time, read as a stream.
 * Line N holds position N. A torn last line (the process died mid-write, its writer was never
 * answered) is dropped, as the old store did at start; a bad line anywhere else is corruption.
 */
export async function* readLegacyJournal(
  file: string,
  batchSize = COMMIT_BATCH,
  onTorn?: (lineNo: number) => void,
): AsyncGenerator<Commit[]> {
  for await (const batch of journalBatches(file, batchSize, onTorn)) yield batch.commits;
}

async function* journalBatches(file: string, batchSize: number, onTorn?: (lineNo: number) => void): AsyncGenerator<JournalBatch> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError("batchSize must be a positive integer");
  const input = createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: Commit[] = [];
  let bytes = 0;
  let lineNo = 0;
  let tornLine = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      if (tornLine) throw corrupt(file, tornLine, "is not valid JSON and is not the last line");
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        tornLine = lineNo;
        continue;
      }
      batch.push(checkCommit(file, lineNo, parsed));
      if (batch.length >= batchSize) {
        yield { commits: batch, bytes };
        batch = [];
      }
    }
  } finally {
    // Also when the reader stops early (an import failed): the file must not stay open.
    lines.close();
    input.destroy();
  }
  if (tornLine) onTorn?.(tornLine);
  if (batch.length) yield { commits: batch, bytes };
}

function checkCommit(file: string, lineNo: number, value: unknown): Commit {
  const c = value as Partial<Commit> | null;
  if (
    !c ||
    typeof c !== "object" ||
    typeof c._id !== "string" ||
    typeof c.stream !== "string" ||
    !Number.isInteger(c.seq) ||
    typeof c.at !== "number" ||
    !Array.isArray(c.events)
  ) {
    throw corrupt(file, lineNo, "is not a commit");
  }
  if (c.pos !== lineNo) throw corrupt(file, lineNo, `holds position ${String(c.pos)}`);
  return c as Commit;
}

function corrupt(file: string, lineNo: number, problem: string): Error {
  return new Error(
    `${file}: line ${lineNo} ${problem}; the file is damaged there: repair or remove that line (keep a copy) and start again`,
  );
}

/**
 * An old NeDB datafile as NeDB itself loaded it: later lines win by _id, `$$deleted` lines
 * remove, index lines add or remove indexes, dates (`{"$$date": ms}`) become milliseconds. NeDB
 * never fsynced its appends, so a torn last line is dropped; a bad line elsewhere is corruption.
 */
export async function readLegacyCollection(file: string, onTorn?: (lineNo: number) => void): Promise<LegacyCollection> {
  const docs = new Map<string, Doc>();
  const indexes = new Map<string, IndexSpec>();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  let tornLine = 0;
  for await (const line of lines) {
    lineNo++;
    if (tornLine) throw corrupt(file, tornLine, "is not valid JSON and is not the last line");
    if (line === "") continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line, reviveDate) as Record<string, unknown>;
    } catch {
      tornLine = lineNo;
      continue;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) throw corrupt(file, lineNo, "is not a document");
    const created = value.$$indexCreated as { fieldName?: unknown; unique?: unknown; sparse?: unknown } | undefined;
    if (typeof value._id === "string") {
      if (value.$$deleted === true) docs.delete(value._id);
      else {
        // A replaced document keeps no trace of its earlier version's place.
        docs.delete(value._id);
        docs.set(value._id, value as unknown as Doc);
      }
    } else if (created && typeof created === "object") {
      if (typeof created.fieldName !== "string") throw corrupt(file, lineNo, "creates an index on more than one field");
      indexes.set(created.fieldName, {
        field: created.fieldName,
        unique: created.unique === true,
        sparse: created.sparse === true,
      });
    } else if (typeof value.$$indexRemoved === "string") {
      indexes.delete(value.$$indexRemoved);
    } else {
      throw corrupt(file, lineNo, "is neither a document nor an index");
    }
  }
  if (tornLine) onTorn?.(tornLine);
  return { docs: [...docs.values()], indexes: [...indexes.values()] };
}

function reviveDate(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const date = (value as { $$date?: unknown }).$$date;
    if (typeof date === "number" && Object.keys(value).length === 1) return date;
  }
  return value;
}

/**
 * Imports every old log and collection into `target`, telling `progress` where it is: a line
 * per file, and for a big journal about every 5% (or 50k commits). Throws on the first problem;
 * the caller then discards what it was importing into, and the old files are as they were.
 */
export async function migrateLegacyData(
  dataDir: string,
  target: LegacyImportTarget,
  progress: (message: string) => void,
): Promise<MigrationCounts> {
  const legacy = findLegacyData(dataDir);
  const counts: MigrationCounts = { commits: {}, docs: {} };
  const total = [...legacy.logs, ...legacy.collections].reduce((sum, f) => sum + f.size, 0);
  progress(
    `migrating the data directory ${dataDir} to the SQLite store: ${legacy.logs.length} event logs and ` +
      `${legacy.collections.length} collections (${sizeOf(total)}); the old files stay as they are until it is done`,
  );
  for (const log of legacy.logs) counts.commits[log.name] = await importJournal(log, target, progress);
  for (const collection of legacy.collections) {
    progress(`collection ${collection.name}: ${basename(collection.path)} (${sizeOf(collection.size)})`);
    const { docs, indexes } = await readLegacyCollection(collection.path, (n) => progress(tornMessage(collection, n)));
    for (let i = 0; i < docs.length; i += DOC_BATCH) target.importDocs(collection.name, docs.slice(i, i + DOC_BATCH));
    // After the documents: one index build instead of one index update per document.
    for (const spec of indexes) await target.ensureIndex(collection.name, spec);
    counts.docs[collection.name] = docs.length;
  }
  const commits = Object.values(counts.commits).reduce((a, b) => a + b, 0);
  const docs = Object.values(counts.docs).reduce((a, b) => a + b, 0);
  progress(`read ${commits} commits and ${docs} documents from the old files`);
  return counts;
}

async function importJournal(log: LegacyFile, target: LegacyImportTarget, progress: (message: string) => void): Promise<number> {
  progress(`event log ${log.name}: ${basename(log.path)} (${sizeOf(log.size)})`);
  let commits = 0;
  let reportedCommits = 0;
  let reportedBytes = 0;
  for await (const batch of journalBatches(log.path, COMMIT_BATCH, (n) => progress(tornMessage(log, n)))) {
    target.importCommits(log.name, batch.commits);
    commits += batch.commits.length;
    const due = commits - reportedCommits >= PROGRESS_COMMITS || batch.bytes - reportedBytes >= log.size * PROGRESS_SHARE;
    if (due && batch.bytes < log.size) {
      const estimate = Math.round((commits * log.size) / batch.bytes);
      const share = Math.floor((100 * batch.bytes) / log.size);
      progress(`${basename(log.path)}: ${commits} of about ${estimate} commits (${share}%)`);
      reportedCommits = commits;
      reportedBytes = batch.bytes;
    }
  }
  return commits;
}

function tornMessage(file: LegacyFile, lineNo: number): string {
  return `${basename(file.path)}: its last line (${lineNo}) is torn, a write cut short when the process stopped; it is left out, as the old store did`;
}

function sizeOf(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Moves the old files into `<dataDir>/legacy-<timestamp>/` once the new database is in place:
 * kept, not deleted, in case someone wants them back. Returns that directory.
 */
export function retireLegacyFiles(
  dataDir: string,
  legacy: LegacyData,
  progress: (message: string) => void,
  now = new Date(),
): string {
  const dir = join(dataDir, `legacy-${now.toISOString().replace(/[:.]/g, "-")}`);
  const files = legacyPaths(legacy);
  mkdirSync(dir, { recursive: true });
  for (const file of files) renameSync(file, join(dir, basename(file)));
  progress(
    `migration done; the old store files (${files.length}) are kept in ${dir} and can be deleted once you no longer need them`,
  );
  return dir;
}
