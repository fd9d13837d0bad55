import { randomUUID } from "node:crypto";
import type { mongo } from "mongoose";
import {
  commitId,
  type AppendRequest,
  type AppendResult,
  type Commit,
  type EventLog,
  type EventLogHooks,
} from "../../eventlog/types";
import { VersionConflictError } from "../types";
import { isDuplicateKey } from "./mongo-errors";

type Draft = Omit<Commit, "pos" | "at">;

interface Queued {
  draft: Draft;
  expectedSeq: number;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

/** Commits written with one round trip; bounded so one slow batch cannot grow without limit. */
const MAX_BATCH = 256;

/**
 * The event log on MongoDB, without transactions: each commit is one document. Three unique
 * indexes do the work: `_id` (stream + seq) is the optimistic concurrency check, `pos` makes
 * the global position a claim that only one writer can win, and the sparse `commandId`
 * recognises a retried command.
 *
 * Appends from this process go through one queue: positions are handed out in order right
 * after the highest one seen, and each batch is one ordered insertMany, so writers in this
 * process never race each other for a position and only other processes cost a retry. A
 * position is only claimed right after one that exists, so the log has no holes.
 */
export class MongoLog implements EventLog {
  private knownHead = 0;
  private headLoaded = false;
  private ready: Promise<void> | null = null;
  private queue: Queued[] = [];
  private pumping: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly commits: mongo.Collection<Commit>,
    private readonly hooks: EventLogHooks = {},
  ) {}

  append(request: AppendRequest): Promise<AppendResult> {
    const seq = request.expectedSeq + 1;
    const draft: Draft = {
      _id: commitId(request.stream, seq),
      stream: request.stream,
      seq,
      ...(request.commandId ? { commandId: request.commandId } : {}),
      meta: request.meta ?? {},
      events: request.events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data })),
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, expectedSeq: request.expectedSeq, resolve, reject });
      this.pumping ??= this.pump();
    });
  }

  async findByCommandId(commandId: string): Promise<Commit | null> {
    await this.init();
    return this.commits.findOne({ commandId });
  }

  async readStream(stream: string, afterSeq = 0): Promise<Commit[]> {
    await this.init();
    return this.commits
      .find({ stream, seq: { $gt: afterSeq } })
      .sort({ seq: 1 })
      .toArray();
  }

  async readFrom(afterPos: number, limit: number): Promise<Commit[]> {
    await this.init();
    return this.commits
      .find({ pos: { $gt: afterPos } })
      .sort({ pos: 1 })
      .limit(limit)
      .toArray();
  }

  async head(): Promise<number> {
    await this.init();
    const [last] = await this.commits
      .find({}, { projection: { pos: 1 } })
      .sort({ pos: -1 })
      .limit(1)
      .toArray();
    const head = last?.pos ?? 0;
    this.knownHead = Math.max(this.knownHead, head);
    this.headLoaded = true;
    return head;
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.init();
          if (!this.headLoaded) await this.head();
          await this.writeBatch(await this.screen(batch));
        } catch (err) {
          for (const item of batch) item.reject(err);
        }
      }
    } finally {
      this.pumping = null;
    }
  }

  /**
   * Settles what can be known before writing, with one read: repeated command ids are answered
   * with their first commit, a version already taken (in the store or earlier in this batch) is
   * a conflict, and so is a version whose predecessor does not exist (the unique _id alone
   * cannot refuse a writer that is ahead of the stream). What remains can only be refused by
   * a concurrent writer in another process.
   */
  private async screen(batch: Queued[]): Promise<Queued[]> {
    const ids = batch.flatMap((item) => [
      item.draft._id,
      ...(item.expectedSeq > 0 ? [commitId(item.draft.stream, item.expectedSeq)] : []),
    ]);
    const commandIds = batch.flatMap((item) => (item.draft.commandId ? [item.draft.commandId] : []));
    const found = await this.commits
      .find({ $or: [{ _id: { $in: ids } }, ...(commandIds.length ? [{ commandId: { $in: commandIds } }] : [])] })
      .toArray();
    const byId = new Set(found.map((c) => c._id));
    const byCommand = new Map(found.filter((c) => c.commandId).map((c) => [c.commandId!, c]));

    const accepted: Queued[] = [];
    const taken = new Set<string>();
    const leaders = new Map<string, Queued>();
    for (const item of batch) {
      const { commandId, _id, stream } = item.draft;
      const first = commandId ? byCommand.get(commandId) : undefined;
      const leader = commandId ? leaders.get(commandId) : undefined;
      if (first) {
        item.resolve({ commit: first, duplicate: true });
      } else if (leader) {
        follow(leader, item);
      } else if (byId.has(_id) || taken.has(_id) || (item.expectedSeq > 0 && !byId.has(commitId(stream, item.expectedSeq)))) {
        item.reject(new VersionConflictError(stream, item.expectedSeq));
      } else {
        taken.add(_id);
        if (commandId) leaders.set(commandId, item);
        accepted.push(item);
      }
    }
    return accepted;
  }

  /**
   * Inserts in order. When the server refuses the commit at index i, the ones before it are
   * stored; the refused one is a repeated command, a version conflict, or a position another
   * process took first (then it goes around again with the rest).
   */
  private async writeBatch(batch: Queued[]): Promise<void> {
    let pending = batch;
    while (pending.length > 0) {
      const first = this.knownHead + 1;
      const docs = pending.map((item, i): Commit => ({ ...item.draft, pos: first + i, at: Date.now() }));
      if (this.hooks.beforeInsert) await Promise.all(docs.map((doc) => this.hooks.beforeInsert!(doc.pos)));
      let stored = docs.length;
      try {
        await this.commits.insertMany(docs, { ordered: true });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        stored = firstFailedIndex(err);
      }
      for (let i = 0; i < stored; i++) pending[i].resolve({ commit: docs[i], duplicate: false });
      this.knownHead = Math.max(this.knownHead, first + stored - 1);
      if (stored === docs.length) return;

      const refused = pending[stored];
      pending = pending.slice(stored + 1);
      const outcome = await this.explainRefusal(refused);
      if (outcome === "position") pending.unshift(refused);
      else if (outcome instanceof VersionConflictError) refused.reject(outcome);
      else refused.resolve({ commit: outcome, duplicate: true });
    }
  }

  /** Which unique index refused the insert decides what happened; ask the data, not the message. */
  private async explainRefusal(item: Queued): Promise<Commit | VersionConflictError | "position"> {
    if (item.draft.commandId) {
      const first = await this.findByCommandId(item.draft.commandId);
      if (first) return first;
    }
    if (await this.commits.countDocuments({ _id: item.draft._id }, { limit: 1 })) {
      return new VersionConflictError(item.draft.stream, item.expectedSeq);
    }
    await this.head();
    return "position";
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await this.commits.createIndex({ pos: 1 }, { unique: true, name: "pos_unique" });
      await this.commits.createIndex({ commandId: 1 }, { unique: true, sparse: true, name: "command_unique" });
      await this.commits.createIndex({ stream: 1, seq: 1 }, { unique: true, name: "stream_seq_unique" });
    })().catch((err) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }
}

/** The same command queued twice: the second gets the first's answer. */
function follow(leader: Queued, follower: Queued): void {
  const { resolve, reject } = leader;
  leader.resolve = (result) => {
    resolve(result);
    follower.resolve({ commit: result.commit, duplicate: true });
  };
  leader.reject = (err) => {
    reject(err);
    follower.reject(err);
  };
}

/**
 * An ordered bulk insert stops at its first error; everything before that index was stored.
 * Without that index the outcome is unknown, so the error goes to the writers (a retry with
 * the same command id is then answered correctly either way).
 */
function firstFailedIndex(err: unknown): number {
  const writeErrors = (err as { writeErrors?: Array<{ index: number }> | { index: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) throw err;
  return Math.min(...list.map((e) => e.index));
}
