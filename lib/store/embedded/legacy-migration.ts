import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Commit } from "../../eventlog/types";
import type { Doc, IndexSpec } from "../types";
import {
  findLegacyData,
  isEmptyLegacyData,
  legacyPaths,
  migrateLegacyData,
  retireLegacyFiles,
  type LegacyData,
  type LegacyImportTarget,
} from "./legacy-data";
import { SqliteCollection } from "./sqlite-collection";
import { identifier, SqliteDatabase } from "./sqlite-database";
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
    // Migrated before, but the old files were not all moved aside (the process stopped right after
    // the rename): those the migration read go now. Any other file is not ours to move.
    const leftover = only(legacy, migratedFiles(database));
    if (!isEmptyLegacyData(leftover)) retire(dataDir, leftover, progress, warn);
    return;
  }
  const migrating = `${database}.migrating`;
  removeDatabase(migrating);
  // Every transaction fsynced: the rename below must not publish a database still in flight.
  const db = new SqliteDatabase({ file: migrating, fsync: true });
  try {
    await migrateLegacyData(dataDir, importTarget(db), progress);
    recordMigratedFiles(db, legacy);
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

const MIGRATED_FILES = identifier("meta:legacy_files");

function recordMigratedFiles(db: SqliteDatabase, legacy: LegacyData): void {
  db.exec(`CREATE TABLE ${MIGRATED_FILES} (file TEXT PRIMARY KEY)`);
  db.transaction(() => {
    for (const path of legacyPaths(legacy)) db.run(`INSERT INTO ${MIGRATED_FILES} (file) VALUES (?)`, [basename(path)]);
  });
}

/** The old files a migration into `database` read; none if it was not made by one. */
function migratedFiles(database: string): Set<string> {
  const db = new DatabaseSync(database);
  try {
    const made = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get("meta:legacy_files");
    if (!made) return new Set();
    return new Set(
      db
        .prepare(`SELECT file FROM ${MIGRATED_FILES}`)
        .all()
        .map((row) => String(row.file)),
    );
  } finally {
    db.close();
  }
}

function only(legacy: LegacyData, files: Set<string>): LegacyData {
  const keep = (path: string) => files.has(basename(path));
  return {
    logs: legacy.logs.filter((f) => keep(f.path)),
    collections: legacy.collections.filter((f) => keep(f.path)),
    leftovers: legacy.leftovers.filter(keep),
  };
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
