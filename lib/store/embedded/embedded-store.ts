import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EventLog, EventLogHooks } from "../../eventlog/types";
import { WriteConflictError, type Doc, type DocWrite, type Store } from "../types";
import { migrateLegacyDataDir } from "./legacy-migration";
import { SqliteCollection } from "./sqlite-collection";
import { SqliteDatabase } from "./sqlite-database";
import { SqliteLog } from "./sqlite-log";

export interface EmbeddedStoreOptions {
  /** Directory of the database file; omitted = memory only (tests). */
  dataDir?: string;
  /** `synchronous=FULL`: every commit fsynced, survives power loss (not just a process crash). */
  fsync?: boolean;
  /** Log names to open at start (a log must be opened before `log(name)` is used). */
  logs: string[];
  hooks?: EventLogHooks;
  onWarning?(message: string): void;
  /** Where a one-off migration of a data directory from the store before SQLite reports how far it is. */
  onProgress?(message: string): void;
}

export const DATABASE_FILE = "store.sqlite";

/**
 * The quick start's store: one SQLite database (node:sqlite, WAL) in the data directory, which
 * one process owns (a lock file says which). Logs and collections are tables; nothing is held
 * in memory beyond SQLite's page cache, so start-up does not replay anything.
 */
export class EmbeddedStore implements Store {
  readonly kind = "embedded" as const;
  private readonly collections = new Map<string, SqliteCollection<Doc>>();

  private constructor(
    private readonly options: EmbeddedStoreOptions,
    private readonly db: SqliteDatabase,
    private readonly logs: Map<string, SqliteLog>,
  ) {}

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const { dataDir } = options;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      takeLock(dataDir);
    }
    try {
      if (dataDir) {
        const quiet = () => undefined;
        await migrateLegacyDataDir(
          dataDir,
          join(dataDir, DATABASE_FILE),
          options.onProgress ?? quiet,
          options.onWarning ?? quiet,
        );
      }
      const db = new SqliteDatabase({
        file: dataDir ? join(dataDir, DATABASE_FILE) : null,
        fsync: options.fsync ?? false,
        onWarning: options.onWarning,
      });
      const logs = new Map(options.logs.map((name) => [name, new SqliteLog(name, db, options.hooks)]));
      return new EmbeddedStore(options, db, logs);
    } catch (err) {
      if (dataDir) releaseLock(dataDir);
      throw err;
    }
  }

  log(name: string): EventLog {
    const log = this.logs.get(name);
    if (!log) throw new Error(`event log "${name}" was not opened by the embedded store`);
    return log;
  }

  collection<T extends Doc>(name: string): SqliteCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      const created: SqliteCollection<Doc> = new SqliteCollection<Doc>(name, this.db, () => {
        if (this.collections.get(name) === created) this.collections.delete(name);
      });
      collection = created;
      this.collections.set(name, collection);
    }
    return collection as unknown as SqliteCollection<T>;
  }

  /** One transaction: every write lands, or (a compare-and-set matched nothing) none does. */
  async write(writes: readonly DocWrite[]): Promise<void> {
    this.db.transaction(() => {
      for (const write of writes) {
        if (!this.collection(write.collection).apply(write)) throw new WriteConflictError(write);
      }
    });
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    for (const log of this.logs.values()) await log.close();
    await this.db.close();
    if (this.options.dataDir) releaseLock(this.options.dataDir);
  }
}

function lockFile(dataDir: string): string {
  return join(dataDir, "LOCK");
}

function takeLock(dataDir: string): void {
  const file = lockFile(dataDir);
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const holder = Number(readFileSync(file, "utf8"));
  if (holder !== process.pid && isAlive(holder)) {
    throw new Error(`data directory ${dataDir} is in use by process ${holder}; stop it or set DATA_DIR to another directory`);
  }
  writeFileSync(file, String(process.pid));
}

function releaseLock(dataDir: string): void {
  rmSync(lockFile(dataDir), { force: true });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
