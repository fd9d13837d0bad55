import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { appendFile, open, stat, truncate, type FileHandle } from "node:fs/promises";
import { createInterface } from "node:readline";
import {
  commitId,
  type AppendRequest,
  type AppendResult,
  type Commit,
  type EventLog,
  type EventLogHooks,
} from "../../eventlog/types";
import { VersionConflictError } from "../types";

interface Queued {
  commit: Commit;
  resolve(commit: Commit): void;
  reject(err: unknown): void;
}

export interface JournalOptions {
  /** Append-only JSON-lines file; null keeps the log in memory only (tests). */
  file: string | null;
  /** fdatasync after every write batch: survives power loss, costs throughput. */
  fsync: boolean;
  hooks?: EventLogHooks;
  onWarning?(message: string): void;
}

/**
 * The embedded event log: every commit is one JSON line in an append-only journal, indexed in
 * memory. Appends are validated and given their position synchronously (one process owns the
 * data directory), then written in batches; a commit becomes visible to readers, and its
 * writer is answered, only once its batch is on disk. Batches are written in order, so the
 * visible log is always a contiguous prefix.
 */
export class JournalLog implements EventLog {
  private readonly commits: Commit[] = [];
  private readonly byStream = new Map<string, Commit[]>();
  private readonly byCommand = new Map<string, Commit>();

  /** What has been promised to writers: durable commits plus the ones queued for the disk. */
  private assignedHead = 0;
  private readonly assignedSeq = new Map<string, number>();
  private readonly pendingByCommand = new Map<string, Promise<Commit>>();

  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private fileSize = 0;

  private fd: FileHandle | null = null;

  private constructor(
    readonly name: string,
    private readonly options: JournalOptions,
  ) {}

  static async open(name: string, options: JournalOptions): Promise<JournalLog> {
    const log = new JournalLog(name, options);
    if (options.file) {
      log.fileSize = await replayJournal(options.file, (commit) => log.publish(commit), options.onWarning);
      log.fd = await open(options.file, "a");
    }
    log.rollBackAssigned();
    return log;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { commandId } = request;
    if (commandId) {
      const done = this.byCommand.get(commandId);
      if (done) return { commit: done, duplicate: true };
      const pending = this.pendingByCommand.get(commandId);
      if (pending) return { commit: await pending, duplicate: true };
    }
    const current = this.assignedSeq.get(request.stream) ?? 0;
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
    return this.byCommand.get(commandId) ?? null;
  }

  async readStream(stream: string, afterSeq = 0): Promise<Commit[]> {
    return (this.byStream.get(stream) ?? []).slice(afterSeq);
  }

  async readFrom(afterPos: number, limit: number): Promise<Commit[]> {
    return this.commits.slice(afterPos, afterPos + limit);
  }

  async head(): Promise<number> {
    return this.commits.length;
  }

  /** Waits for queued writes, then releases the file. */
  async close(): Promise<void> {
    await this.flushing;
    await this.fd?.close();
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        for (const item of batch) await this.options.hooks?.beforeInsert?.(item.commit.pos);
        await this.write(batch.map((item) => JSON.stringify(item.commit) + "\n").join(""));
        for (const item of batch) this.publish(item.commit);
        for (const item of batch) item.resolve(item.commit);
      } catch (err) {
        // The batch did not reach the disk; later queued commits were numbered after it, so
        // they fail too and the promised state falls back to what is durable.
        const failed = batch.concat(this.queue);
        this.queue = [];
        this.rollBackAssigned();
        for (const item of failed) item.reject(err);
      } finally {
        for (const item of batch) if (item.commit.commandId) this.pendingByCommand.delete(item.commit.commandId);
      }
    }
    this.flushing = null;
  }

  private async write(text: string): Promise<void> {
    if (!this.fd) return;
    const bytes = Buffer.from(text);
    try {
      await this.fd.appendFile(bytes);
      if (this.options.fsync) await this.fd.datasync();
      this.fileSize += bytes.length;
    } catch (err) {
      // A torn line in the middle of the journal would make it unreadable: cut it off.
      await this.fd.truncate(this.fileSize).catch(() => undefined);
      throw err;
    }
  }

  private rollBackAssigned(): void {
    this.assignedHead = this.commits.length;
    this.assignedSeq.clear();
    for (const [stream, commits] of this.byStream) this.assignedSeq.set(stream, commits.length);
  }

  private publish(commit: Commit): void {
    Object.freeze(commit);
    this.commits.push(commit);
    let stream = this.byStream.get(commit.stream);
    if (!stream) this.byStream.set(commit.stream, (stream = []));
    stream.push(commit);
    if (commit.commandId) this.byCommand.set(commit.commandId, commit);
  }
}

/**
 * Reads a journal back. A torn last line (the process died mid-write, so its writer was never
 * answered) is cut off; a bad line anywhere else is corruption and stops the start.
 */
async function replayJournal(
  file: string,
  publish: (commit: Commit) => void,
  onWarning?: (message: string) => void,
): Promise<number> {
  const size = await stat(file).then(
    (s) => s.size,
    () => -1,
  );
  if (size < 0) return 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let goodBytes = 0;
  let lineNo = 0;
  let torn = false;
  for await (const line of lines) {
    lineNo++;
    if (torn) throw new Error(`${file}: line ${lineNo - 1} is corrupt and is not the last line`);
    let commit: Commit;
    try {
      commit = JSON.parse(line) as Commit;
    } catch {
      torn = true;
      continue;
    }
    if (commit.pos !== lineNo) throw new Error(`${file}: line ${lineNo} holds position ${commit.pos}`);
    publish(commit);
    goodBytes += Buffer.byteLength(line) + 1;
  }
  if (goodBytes === size + 1) {
    // The last commit is whole but its newline never made it: keep the commit (as a database
    // keeps a write whose acknowledgement was lost) and finish the line.
    await appendFile(file, "\n");
  } else if (goodBytes !== size) {
    onWarning?.(`${file}: dropped a torn last write (${size - goodBytes} bytes)`);
    await truncate(file, goodBytes);
  }
  return goodBytes;
}
