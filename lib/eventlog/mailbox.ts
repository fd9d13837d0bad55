import { VersionConflictError } from "../store/types";
import type { Decider } from "./decider";
import type { Commit, EventLog, EventMeta, NewEvent } from "./types";

/** The mailbox is full: the caller should retry shortly (HTTP 503 with Retry-After). */
export class BusyError extends Error {
  override readonly name = "BusyError";
  constructor(
    readonly stream: string,
    readonly queued: number,
  ) {
    super(`aggregate ${stream} is busy (${queued} commands queued); retry shortly`);
  }
}

export interface MailboxOptions {
  /** Commands waiting at most; beyond that callers get BusyError at once. */
  maxQueue?: number;
  /** Commands decided into one commit at most. */
  maxBatch?: number;
  /** Reloads after a version conflict before the batch fails. */
  maxReloads?: number;
}

export interface MailboxResult<E> {
  /** The events this command produced (empty for a no-op). */
  events: E[];
  /** The commit that holds them; null for a no-op. */
  commit: Commit | null;
}

interface Pending<C, E> {
  command: C;
  meta?: EventMeta;
  resolve(result: MailboxResult<E>): void;
  reject(err: unknown): void;
}

/**
 * One hot aggregate kept in memory (see architecture.md, "Hot aggregates"): commands are
 * queued, decided one after another against the current state, and the events of a whole
 * batch are written as ONE commit. The log's unique (stream, seq) stays the real fence: when
 * another writer got there first (the shard ring changed), the state is reloaded from the log
 * and the batch decided again, so nothing is ever decided on stale state.
 *
 * The decider's evolve may update the state in place: the state belongs to this mailbox
 * alone and is thrown away and reloaded whenever a write fails.
 */
export class Mailbox<C, E extends NewEvent, S> {
  private state: S | null = null;
  private seq = 0;
  private queue: Pending<C, E>[] = [];
  private running = false;
  private lastUsed = Date.now();
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly maxReloads: number;

  constructor(
    private readonly log: EventLog,
    private readonly decider: Decider<C, E, S>,
    readonly stream: string,
    options: MailboxOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 5000;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxReloads = options.maxReloads ?? 5;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** When it was last used, or null while it has work: only an idle mailbox may be dropped. */
  get idleSince(): number | null {
    return this.running || this.queue.length > 0 ? null : this.lastUsed;
  }

  submit(command: C, meta?: EventMeta): Promise<MailboxResult<E>> {
    this.lastUsed = Date.now();
    if (this.queue.length >= this.maxQueue) return Promise.reject(new BusyError(this.stream, this.queue.length));
    return new Promise((resolve, reject) => {
      this.queue.push({ command, meta, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** The state as of the last write (loads it if needed); callers must not change it. */
  async current(): Promise<S> {
    this.lastUsed = Date.now();
    if (this.state === null) await this.reload();
    return this.state!;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.process(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async process(batch: Pending<C, E>[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.state === null) await this.reload();
        const outcomes = this.decideAll(batch);
        const events = outcomes.flatMap((o) => ("events" in o ? o.events : []));
        let commit: Commit | null = null;
        if (events.length > 0) {
          const meta = batch.find((p) => p.meta)?.meta;
          commit = (await this.log.append({ stream: this.stream, expectedSeq: this.seq, events, meta })).commit;
          this.seq = commit.seq;
        }
        outcomes.forEach((o, i) =>
          "events" in o
            ? batch[i].resolve({ events: o.events, commit: o.events.length ? commit : null })
            : batch[i].reject(o.error),
        );
        return;
      } catch (err) {
        // The in-memory state may hold events that were never written: start again from the log.
        this.state = null;
        if (!(err instanceof VersionConflictError) || attempt >= this.maxReloads) {
          for (const p of batch) p.reject(err);
          return;
        }
        // The other writer's commit may not be readable yet: give it a moment, with jitter.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  /** Decides each command in order; a refused command leaves the state as it was. */
  private decideAll(batch: Pending<C, E>[]): Array<{ events: E[] } | { error: unknown }> {
    return batch.map((p) => {
      try {
        const events = this.decider.decide(p.command, this.state!);
        for (const event of events) this.state = this.decider.evolve(this.state!, event);
        return { events };
      } catch (error) {
        return { error };
      }
    });
  }

  private async reload(): Promise<void> {
    const commits = await this.log.readStream(this.stream);
    let state = this.decider.initialState();
    for (const commit of commits) for (const event of commit.events) state = this.decider.evolve(state, event as unknown as E);
    this.state = state;
    this.seq = commits.length ? commits[commits.length - 1].seq : 0;
  }
}

/**
 * Drops the mailboxes idle since before `before`, so memory follows the events on sale rather
 * than every event ever sold on this node. Dropping is always safe: the next command reloads
 * the state from the log.
 */
export function evictIdle<K>(mailboxes: Map<K, { idleSince: number | null }>, before: number): number {
  let evicted = 0;
  for (const [key, box] of mailboxes) {
    const idle = box.idleSince;
    if (idle !== null && idle < before) {
      mailboxes.delete(key);
      evicted++;
    }
  }
  return evicted;
}
