import Datastore from "@seald-io/nedb";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EventLog, EventLogHooks } from "../../eventlog/types";
import type { Doc, Store } from "../types";
import { JournalLog } from "./journal-log";
import { NedbCollection } from "./nedb-collection";

export interface EmbeddedStoreOptions {
  /** Directory for the journals and collections; omitted = memory only (tests). */
  dataDir?: string;
  /** fdatasync each journal batch (slower; survives power loss, not just a process crash). */
  fsync?: boolean;
  /** Log names to open at start (a log must be opened before `log(name)` is used). */
  logs: string[];
  hooks?: EventLogHooks;
  onWarning?(message: string): void;
}

const COMPACT_EVERY_MS = 10 * 60 * 1000;

/**
 * The quick start's store: one process owns the data directory (a lock file says which),
 * event logs are journals, documents live in NeDB files.
 */
export class EmbeddedStore implements Store {
  readonly kind = "embedded" as const;
  private readonly collections = new Map<string, NedbCollection<Doc>>();

  private constructor(
    private readonly options: EmbeddedStoreOptions,
    private readonly logs: Map<string, JournalLog>,
  ) {}

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      takeLock(options.dataDir);
    }
    const logs = new Map<string, JournalLog>();
    try {
      for (const name of options.logs) {
        const file = options.dataDir ? join(options.dataDir, `${name}.commits.jsonl`) : null;
        logs.set(
          name,
          await JournalLog.open(name, {
            file,
            fsync: options.fsync ?? false,
            hooks: options.hooks,
            onWarning: options.onWarning,
          }),
        );
      }
    } catch (err) {
      if (options.dataDir) releaseLock(options.dataDir);
      throw err;
    }
    return new EmbeddedStore(options, logs);
  }

  log(name: string): EventLog {
    const log = this.logs.get(name);
    if (!log) throw new Error(`event log "${name}" was not opened by the embedded store`);
    return log;
  }

  collection<T extends Doc>(name: string): NedbCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      const filename = this.options.dataDir ? join(this.options.dataDir, `${name}.db`) : undefined;
      const datastore = new Datastore<Doc>({ filename, inMemoryOnly: !filename, autoload: true });
      if (filename) datastore.setAutocompactionInterval(COMPACT_EVERY_MS);
      const created: NedbCollection<Doc> = new NedbCollection<Doc>(name, datastore, () => {
        if (this.collections.get(name) === created) this.collections.delete(name);
      });
      collection = created;
      this.collections.set(name, collection);
    }
    return collection as unknown as NedbCollection<T>;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    for (const log of this.logs.values()) await log.close();
    for (const { datastore } of this.collections.values()) {
      datastore.stopAutocompaction();
      if (this.options.dataDir) await datastore.compactDatafileAsync();
    }
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
