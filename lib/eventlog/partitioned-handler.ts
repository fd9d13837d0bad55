import {
  viewOf,
  type ParkedControl,
  type ParkedEventRef,
  type ParkedKeyDoc,
  type ParkedKeys,
  type ParkedSummary,
} from "./parked-keys";
import { DEFAULT_ATTEMPTS, DEFAULT_RETRY_DELAY_MS, errorMessage, type RunnerLogger, type RunnerParking } from "./runner";
import { eventsOf, type Commit, type EventLog, type RecordedEvent } from "./types";

/** How often parked keys are looked for when none is known to be due. */
const PARKED_CHECK_MS = 1000;

export interface PartitionedOptions {
  subscription: string;
  log: EventLog;
  parked: ParkedKeys;
  /** The events of a commit the subscription reacts to. */
  select(event: RecordedEvent): boolean;
  /** Events with the same key run in log order; different keys run side by side. */
  key(event: RecordedEvent): string;
  /** Reacts to one event; idempotent by event id (after a crash an event may come again). */
  run(event: RecordedEvent): Promise<void>;
  concurrency: number;
  logger: RunnerLogger;
  /** Attempts at an event within a batch before its key is parked. */
  attempts?: number;
  retryDelayMs?: number;
  /** Pause before a parked key is tried again, doubled after every failed round... */
  parkedRetryMs: number;
  /** ...up to this. */
  parkedRetryMaxMs: number;
  now?: () => number;
}

/**
 * The batch handler of a subscription partitioned by key. A key whose event keeps failing is
 * parked in the store with its pending events and retried with backoff, while the runner's
 * checkpoint moves on for every other key; later events of a parked key queue behind it, so a
 * key's events never run out of order. Parked keys are retried only once the checkpoint covers
 * everything queued for them, which keeps "checkpoint + parked keys" an exact account of the log.
 */
export class PartitionedHandler implements RunnerParking {
  private readonly now: () => number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  /** When the parked keys are worth listing again (0: at the next chance). */
  private nextCheckAt = 0;

  constructor(private readonly o: PartitionedOptions) {
    this.now = o.now ?? Date.now;
    this.attempts = o.attempts ?? DEFAULT_ATTEMPTS;
    this.retryDelayMs = o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  }

  /** Throws only when the store cannot record a parked key: then the runner retries the batch. */
  async handle(commits: readonly Commit[]): Promise<void> {
    const events = commits.flatMap((commit) => eventsOf(commit)).filter((event) => this.o.select(event));
    if (events.length === 0) return;
    const through = commits[commits.length - 1].pos;
    const parked = new Set((await this.o.parked.list()).map((doc) => doc.key));
    const queues = new Map<string, RecordedEvent[]>();
    for (const event of events) {
      const k = this.o.key(event);
      const queue = queues.get(k);
      if (queue) queue.push(event);
      else queues.set(k, [event]);
    }
    await inPool([...queues], this.o.concurrency, async ([key, queue]) => {
      if (parked.has(key)) {
        await this.o.parked.enqueue(key, queue.map(refOf), through, null);
        return;
      }
      for (let i = 0; i < queue.length; i++) {
        const error = await this.tryRun(queue[i], this.attempts);
        if (error === null) continue;
        const doc = await this.o.parked.enqueue(key, queue.slice(i).map(refOf), through, {
          error,
          nextAttemptAt: this.now() + this.backoff(1),
        });
        this.nextCheckAt = Math.min(this.nextCheckAt, doc.nextAttemptAt);
        this.o.logger.warn(
          `subscription ${this.o.subscription}: key ${key} parked at position ${queue[i].pos} (${queue[i].type} ${queue[i].id}) ` +
            `after ${this.attempts} attempts, ${doc.events.length} event(s) wait: ${error}`,
        );
        return;
      }
    });
  }

  /** Tries the parked keys that are due; `pos` is the runner's checkpoint. */
  async retryDue(pos: number, shouldYield: () => boolean): Promise<void> {
    const now = this.now();
    // Not a query after every batch: only when a parked key falls due, or every PARKED_CHECK_MS
    // for keys parked or retried from elsewhere (a previous lease holder, an admin on another node).
    if (now < this.nextCheckAt) return;
    const parked = await this.o.parked.list();
    this.nextCheckAt = Math.min(now + PARKED_CHECK_MS, ...parked.map((doc) => doc.nextAttemptAt));
    const due = parked.filter((doc) => doc.nextAttemptAt <= now && doc.through <= pos);
    await inPool(due, this.o.concurrency, (doc) => this.drain(doc, shouldYield));
  }

  summary(): Promise<ParkedSummary> {
    return this.o.parked.summary();
  }

  /** The admin's handle; `wake` gets the runner to act on a change at once. */
  control(wake: () => void): ParkedControl {
    const { parked, logger, subscription } = this.o;
    return {
      list: async () => (await parked.list()).map(viewOf),
      retry: async (key) => {
        const changed = await parked.retryNow(key);
        if (!changed) return null;
        this.nextCheckAt = 0;
        wake();
        return viewOf(changed.after);
      },
      skip: async (key, reason, actor) => {
        const changed = await parked.skipHead(key);
        if (!changed) return null;
        const skipped = changed.before.events[0];
        // The only trace of an event that never ran: say which, and why.
        logger.warn(
          `subscription ${subscription}: key ${key}: event ${skipped.id} (${skipped.type}) at position ${skipped.pos} ` +
            `skipped by ${actor} without running: ${reason}`,
        );
        wake();
        return { key, skipped, remaining: changed.after.events.length };
      },
    };
  }

  /** Runs a parked key's events in order until one fails again or none is left. */
  private async drain(first: ParkedKeyDoc, shouldYield: () => boolean): Promise<void> {
    let doc: ParkedKeyDoc | null = first;
    while (doc && doc.events.length > 0 && !shouldYield()) {
      const head = doc.events[0];
      const event = await this.read(head);
      const error = event
        ? await this.tryRun(event, 1)
        : `event ${head.id} is missing from position ${head.pos} of log ${this.o.log.name}`;
      if (error === null) {
        // Only the head that ran is removed: an admin may have skipped it meanwhile.
        const done = await this.o.parked.change(doc.key, (d) =>
          d.events[0]?.id === head.id ? { ...d, events: d.events.slice(1), attempts: 0, lastError: "", nextAttemptAt: 0 } : null,
        );
        doc = done?.after ?? null;
        if (doc && doc.events.length === 0) {
          this.o.logger.info(`subscription ${this.o.subscription}: key ${doc.key} caught up and is no longer parked`);
        }
        continue;
      }
      const failed = await this.o.parked.change(doc.key, (d) =>
        d.events[0]?.id === head.id
          ? { ...d, attempts: d.attempts + 1, lastError: error, nextAttemptAt: this.now() + this.backoff(d.attempts + 1) }
          : null,
      );
      if (failed) {
        this.o.logger.warn(
          `subscription ${this.o.subscription}: parked key ${doc.key} failed again at position ${head.pos} ` +
            `(attempt ${failed.after.attempts}; next in ${failed.after.nextAttemptAt - this.now()} ms): ${error}`,
        );
      }
      return;
    }
  }

  private async read(ref: ParkedEventRef): Promise<RecordedEvent | null> {
    const [commit] = await this.o.log.readFrom(ref.pos - 1, 1);
    if (!commit || commit.pos !== ref.pos) return null;
    const event = eventsOf(commit)[ref.index];
    return event?.id === ref.id ? event : null;
  }

  /** Null when the event ran; otherwise the last error. */
  private async tryRun(event: RecordedEvent, attempts: number): Promise<string | null> {
    let failure = "";
    for (let i = 0; i < attempts; i++) {
      try {
        await this.o.run(event);
        return null;
      } catch (err) {
        failure = errorMessage(err);
        if (i + 1 < attempts) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * (i + 1)));
      }
    }
    return failure;
  }

  /** Exponential, capped: the pause after the `round`-th failed round. */
  private backoff(round: number): number {
    return Math.min(this.o.parkedRetryMaxMs, this.o.parkedRetryMs * 2 ** (round - 1));
  }
}

function refOf(event: RecordedEvent): ParkedEventRef {
  return { id: event.id, pos: event.pos, index: event.index, type: event.type };
}

/** Runs `work` on every item, at most `limit` at once, and resolves when all are done. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const pending = [...items];
  const worker = async (): Promise<void> => {
    for (let item = pending.shift(); item !== undefined; item = pending.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, pending.length) }, worker));
}
