import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import type { Commit } from "../../eventlog/types";
import type { Doc, IndexSpec } from "../types";
import {
  findLegacyData,
  isEmptyLegacyData,
  migrateLegacyData,
  retireLegacyFiles,
  type LegacyData,
  type LegacyImportTarget,
} from "./legacy-data";
import { SqliteCollection } from "./sqlite-collection";
import { SqliteDatabase } from "./sqlite-database";
import { SqliteLog } from "./sqlite-log";

/**
 * Moves a data directory of the store before SQLite (journals + NeDB files) onto `database`
 * (DATA_DIR/store.sqlite), once. The import goes into `<database>.migrating`, which becomes the
 * database only by a rename once it is complete and on disk: a start that fails or is killed
 * half-way leaves no database a later start would take for done, and the old files untouched.
 * Only then are the old files moved aside, into DATA_DIR/legacy-<time>/.
 */
export async function migrateLegacyDataDir(
  dataDir: string,
  database: string,
  progress: (message: string) => void,
  warn: (message: string) => void,
): Promise<void> {
  const legacy = findLegacyData(dataDir);
  if (isEmptyLegacyData(legacy)) return;
  if (existsSync(database)) {
    // Migrated before, but the old files were not moved aside (the process stopped right after the rename).
    retire(dataDir, legacy, progress, warn);
    return;
  }
  const migrating = `${database}.migrating`;
  removeDatabase(migrating);
  // Every transaction fsynced: the rename below must not publish a database still in flight.
  const db = new SqliteDatabase({ file: migrating, fsync: true });
  try {
    await migrateLegacyData(dataDir, importTarget(db), progress);
    await db.close();
  } catch (err) {
    // Already closed, or unusable: the file is removed next either way.
    await db.close().catch(() => undefined);
    removeDatabase(migrating);
    throw new Error(
      `could not migrate the data directory ${dataDir} to the SQLite store (its files were left as they were): ${(err as Error).message}`,
      { cause: err },
    );
  }
  renameSync(migrating, database);
  syncDirectory(dataDir);
  // Closed with its write-ahead log folded in: any side file left is stale.
  removeDatabase(migrating);
  retire(dataDir, legacy, progress, warn);
}

/** The database is complete by now: old files that cannot be moved aside must not stop the start. */
function retire(dataDir: string, legacy: LegacyData, progress: (message: string) => void, warn: (message: string) => void): void {
  try {
    retireLegacyFiles(dataDir, legacy, progress);
  } catch (err) {
    warn(
      `the data directory is migrated, but its old store files could not all be moved aside (${(err as Error).message}); they are no longer read and can be deleted`,
    );
  }
}

function importTarget(db: SqliteDatabase): LegacyImportTarget {
  const logs = new Map<string, SqliteLog>();
  const collections = new Map<string, SqliteCollection<Doc>>();
  const log = (name: string) => logs.get(name) ?? logs.set(name, new SqliteLog(name, db)).get(name)!;
  const collection = (name: string) => collections.get(name) ?? collections.set(name, new SqliteCollection(name, db)).get(name)!;
  return {
    importCommits: (name: string, commits: Commit[]) => log(name).importCommits(commits),
    importDocs: (name: string, docs: Doc[]) => collection(name).importDocs(docs),
    ensureIndex: async (name: string, spec: IndexSpec) => collection(name).ensureIndexNow(spec),
  };
}

function removeDatabase(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
}

/** A rename is durable once its directory is fsynced. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
