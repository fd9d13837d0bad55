import { DatabaseSync, type StatementSync } from "node:sqlite";
import { REGEXP_FUNCTION, type SqlValue } from "./sql-filter";
import { WalCheckpointer } from "./wal-checkpointer";

export interface SqliteOptions {
  /** The database file; null keeps everything in memory (tests). */
  file: string | null;
  /**
   * true: `synchronous=FULL`, every commit is fsynced and survives power loss. false:
   * `synchronous=NORMAL`, a commit survives the process being killed (it is in the WAL, which
   * the OS writes out) but the last ones may be lost if the machine loses power.
   */
  fsync: boolean;
  onWarning?(message: string): void;
}

const REGEXP_CACHE_SIZE = 256;
const STATEMENT_CACHE_SIZE = 512;
/** 64 MB of 4 KB pages: the worker copies most of it; the writer finishes the rest, rarely. */
const WAL_AUTOCHECKPOINT_PAGES = 16384;
const WAL_SIZE_LIMIT = 80 * 1024 * 1024;

/**
 * The embedded store's one connection. node:sqlite is synchronous and this process is the
 * only writer (the data directory's lock says so), so every transaction runs from BEGIN to
 * COMMIT without yielding: no two can interleave, and a reader never sees half of one. WAL
 * keeps other readers (a backup, the sqlite3 shell) from blocking or being blocked.
 */
export class SqliteDatabase {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private depth = 0;
  private checkpointer: WalCheckpointer | null = null;

  constructor(readonly options: SqliteOptions) {
    this.db = new DatabaseSync(options.file ?? ":memory:", { timeout: 5000 });
    if (options.file) {
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec(`PRAGMA synchronous = ${options.fsync ? "FULL" : "NORMAL"}`);
      // Checkpoints (megabytes written, then an fsync) run on another thread. But one beside a
      // writer that never pauses never finishes, and only a finished one lets the log restart
      // from its beginning: so past 64 MB the commit here finishes it, by then a small remainder.
      this.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      // A restarted log is cut back to this size on disk.
      this.db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`);
      this.checkpointer = new WalCheckpointer({
        file: options.file,
        fsync: options.fsync,
        onFailure: (message) => {
          options.onWarning?.(`${message}; checkpointing on the main thread from now on`);
          this.checkpointer = null;
          if (this.db.isOpen) this.db.exec("PRAGMA wal_autocheckpoint = 1000");
        },
      });
    }
    // Index pages stay cached; documents are read once per request and need not be.
    this.db.exec("PRAGMA cache_size = -32000");
    this.db.exec("PRAGMA temp_store = MEMORY");
    const patterns = new Map<string, RegExp>();
    this.db.function(REGEXP_FUNCTION, { deterministic: true }, (source, flags, value) => {
      if (typeof value !== "string") return 0;
      const key = `${String(flags)}/${String(source)}`;
      let re = patterns.get(key);
      if (!re) {
        if (patterns.size >= REGEXP_CACHE_SIZE) patterns.clear();
        patterns.set(key, (re = new RegExp(String(source), String(flags))));
      }
      return re.test(value) ? 1 : 0;
    });
  }

  /** A prepared statement, made once per SQL text (the most recently used few hundred are kept). */
  statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  all<R>(sql: string, params: readonly SqlValue[] = []): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  get<R>(sql: string, params: readonly SqlValue[] = []): R | undefined {
    return this.statement(sql).get(...params) as R | undefined;
  }

  /** Runs a write; the number of rows it changed. */
  run(sql: string, params: readonly SqlValue[] = []): number {
    return Number(this.statement(sql).run(...params).changes);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** Runs `work` in one transaction (nested calls join the outer one); rolls back if it throws. */
  transaction<T>(work: () => T): T {
    if (this.depth > 0) return work();
    this.db.exec("BEGIN IMMEDIATE");
    this.depth++;
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** Forgets statements of a table that was dropped (they would fail, or pin it). */
  forget(table: string): void {
    for (const sql of this.statements.keys()) if (sql.includes(table)) this.statements.delete(sql);
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.statements.clear();
    if (this.options.file) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.db.close();
  }
}

/** A name as an SQL identifier, whatever characters it holds. */
export function identifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Whether SQLite refused a write for a UNIQUE or PRIMARY KEY constraint. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { errcode?: number }).errcode;
  // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
  return code === 2067 || code === 1555;
}
