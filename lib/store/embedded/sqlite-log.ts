import { randomUUID } from "node:crypto";
import {
  commitId,
  type AppendRequest,
  type AppendResult,
  type Commit,
  type EventLog,
  type EventLogHooks,
} from "../../eventlog/types";
import { VersionConflictError } from "../types";
import { RecentCommits } from "./recent-commits";
import { identifier, type SqliteDatabase } from "./sqlite-database";

/** Commits kept in memory per log: a few seconds of an on-sale, as far as runners usually lag. */
const RECENT_COMMITS = 4096;

interface Queued {
  commit: Commit;
  resolve(commit: Commit): void;
  reject(err: unknown): void;
}

/**
 * An event log as a table: `pos` is the primary key (unique and, because this process is the
 * only writer and numbers them in order, contiguous), (stream, seq) and the command id are
 * unique. Appends are checked and numbered at once, then written together with whatever else
 * arrived in the same turn of the event loop, in one transaction (group commit: one fsync for
 * many commits when EMBEDDED_FSYNC is on). A writer is answered, and readers see its commit,
 * once that transaction is committed.
 */
export class SqliteLog implements EventLog {
  private readonly table: string;
  /** The positions and versions promised to writers whose commits are not written yet. */
  private assignedHead: number;
  private readonly assignedSeq = new Map<string, number>();
  private readonly pendingByCommand = new Map<string, Promise<Commit>>();

  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private readonly recent: RecentCommits;

  constructor(
    readonly name: string,
    private readonly db: SqliteDatabase,
    private readonly hooks?: EventLogHooks,
  ) {
    this.table = identifier(logTable(name));
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${this.table} (pos INTEGER PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL, command_id TEXT UNIQUE, commit_json TEXT NOT NULL, UNIQUE (stream, seq))`,
    );
    this.assignedHead = this.durableHead();
    this.recent = new RecentCommits(this.assignedHead, RECENT_COMMITS);
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { commandId } = request;
    if (commandId) {
      const pending = this.pendingByCommand.get(commandId);
      if (pending) return { commit: await pending, duplicate: true };
      const done = this.byCommand(commandId);
      if (done) return { commit: done, duplicate: true };
    }
    const current = this.assignedSeq.get(request.stream) ?? this.streamVersion(request.stream);
    if (request.expectedSeq !== current) throw new VersionConflictError(request.stream, request.expectedSeq);

    const seq = current + 1;
    const pos = ++this.assignedHead;
    this.assignedSeq.set(request.stream, seq);
    const commit: Commit = {
      _id: commitId(request.stream, seq),
      stream: request.stream,
      seq,
      pos,
      at: Date.now(),
      ...(commandId ? { commandId } : {}),
      meta: request.meta ?? {},
      events: request.events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data })),
    };
    const written = new Promise<Commit>((resolve, reject) => this.queue.push({ commit, resolve, reject }));
    if (commandId) this.pendingByCommand.set(commandId, written);
    this.flushing ??= this.flushLoop();
    return { commit: await written, duplicate: false };
  }

  async findByCommandId(commandId: string): Promise<Commit | null> {
    return this.byCommand(commandId);
  }

  async readStream(stream: string, afterSeq = 0): Promise<Commit[]> {
    const held = this.recent.stream(stream, afterSeq);
    if (held) return held;
    return this.parse(
      this.db.all<{ c: string }>(`SELECT commit_json AS c FROM ${this.table} WHERE stream = ? AND seq > ? ORDER BY seq`, [
        stream,
        afterSeq,
      ]),
    );
  }

  async readFrom(afterPos: number, limit: number): Promise<Commit[]> {
    const held = this.recent.from(afterPos, limit);
    if (held) return held;
    return this.parse(
      this.db.all<{ c: string }>(`SELECT commit_json AS c FROM ${this.table} WHERE pos > ? ORDER BY pos LIMIT ?`, [
        afterPos,
        limit,
      ]),
    );
  }

  async head(): Promise<number> {
    return this.durableHead();
  }

  /** Waits for the queued writes. */
  async close(): Promise<void> {
    await this.flushing;
  }

  /** Writes commits as they were (a migration): positions, ids and times kept. */
  importCommits(commits: readonly Commit[]): void {
    this.db.transaction(() => {
      for (const commit of commits) this.insert(commit);
    });
    this.assignedHead = this.durableHead();
    this.recent.reset(this.assignedHead);
  }

  private async flushLoop(): Promise<void> {
    // Let the appends of this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        // One batch is one write: its commits wait out the (test) delay together.
        if (this.hooks?.beforeInsert) await Promise.all(batch.map((item) => this.hooks!.beforeInsert!(item.commit.pos)));
        const written = this.db.transaction(() => batch.map((item) => this.insert(item.commit)));
        this.recent.add(written);
        for (const item of batch) {
          const { stream, seq, commandId } = item.commit;
          if (this.assignedSeq.get(stream) === seq) this.assignedSeq.delete(stream);
          if (commandId) this.pendingByCommand.delete(commandId);
          item.resolve(Object.freeze(item.commit));
        }
      } catch (err) {
        // The batch is not written; later queued commits were numbered after it, so they fail
        // too, and what is promised falls back to what is written.
        const failed = batch.concat(this.queue);
        this.queue = [];
        this.assignedSeq.clear();
        this.assignedHead = this.durableHead();
        for (const item of failed) {
          if (item.commit.commandId) this.pendingByCommand.delete(item.commit.commandId);
          item.reject(err);
        }
      }
    }
    this.flushing = null;
  }

  /** Returns the commit as stored. */
  private insert(commit: Commit): string {
    const json = JSON.stringify(commit);
    this.db.run(`INSERT INTO ${this.table} (pos, stream, seq, command_id, commit_json) VALUES (?, ?, ?, ?, ?)`, [
      commit.pos,
      commit.stream,
      commit.seq,
      commit.commandId ?? null,
      json,
    ]);
    return json;
  }

  private durableHead(): number {
    return this.db.get<{ head: number | null }>(`SELECT max(pos) AS head FROM ${this.table}`)?.head ?? 0;
  }

  private streamVersion(stream: string): number {
    return this.db.get<{ seq: number | null }>(`SELECT max(seq) AS seq FROM ${this.table} WHERE stream = ?`, [stream])?.seq ?? 0;
  }

  private byCommand(commandId: string): Commit | null {
    const row = this.db.get<{ c: string }>(`SELECT commit_json AS c FROM ${this.table} WHERE command_id = ?`, [commandId]);
    return row ? (JSON.parse(row.c) as Commit) : null;
  }

  private parse(rows: Array<{ c: string }>): Commit[] {
    return rows.map((row) => JSON.parse(row.c) as Commit);
  }
}

export function logTable(log: string): string {
  return `log:${log}`;
}
