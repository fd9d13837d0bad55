import { DuplicateKeyError, type DocCollection, type Store } from "../store/types";

/** Where a pending event of a parked key lives in the log. */
export interface ParkedEventRef {
  id: string;
  pos: number;
  /** Index of the event within its commit. */
  index: number;
  type: string;
}

/**
 * A key of a partitioned subscription whose handler kept failing: its pending events wait here,
 * in log order, while the subscription's checkpoint moves on for every other key.
 */
export interface ParkedKeyDoc {
  _id: string;
  subscription: string;
  key: string;
  /** Pending events, oldest first; the head is the one that failed. */
  events: ParkedEventRef[];
  /**
   * Highest log position whose events of this key are accounted for (run, or queued here), so
   * a batch that comes again after a crash queues nothing twice and nothing behind its time.
   */
  through: number;
  /** Failed rounds at the head event; drives the backoff. */
  attempts: number;
  nextAttemptAt: number;
  lastError: string;
  parkedAt: number;
  updatedAt: number;
  /** Compare-and-set guard: an admin's skip and the runner's retry never overwrite each other. */
  version: number;
}

export interface ParkedKeyView {
  key: string;
  /** Position of the head event (the one that fails). */
  pos: number;
  eventId: string;
  pending: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string;
  parkedAt: number;
}

export interface ParkedSummary {
  count: number;
  /** The oldest few, so a status stays small however many keys are parked. */
  keys: ParkedKeyView[];
}

/** The parked keys of one subscription, as the runners service lists them. */
export interface SubscriptionParked {
  subscription: string;
  keys: ParkedKeyView[];
}

/** What an admin does with the parked keys of one subscription (from any node: the store is the truth). */
export interface ParkedControl {
  list(): Promise<ParkedKeyView[]>;
  /** Null when the key is not parked. */
  retry(key: string): Promise<ParkedKeyView | null>;
  /** Drops the head event for good; null when the key is not parked. */
  skip(key: string, reason: string, actor: string): Promise<SkipResult | null>;
}

export interface SkipResult {
  key: string;
  skipped: ParkedEventRef;
  /** Events still waiting behind it; 0 means the key is released. */
  remaining: number;
}

export const PARKED_KEYS = "parked_keys";

/** Retries of a compare-and-set lost to a concurrent writer (an admin, a runner taking over). */
const CAS_ROUNDS = 10;

export function parkedKeyId(subscription: string, key: string): string {
  return JSON.stringify([subscription, key]);
}

export function viewOf(doc: ParkedKeyDoc): ParkedKeyView {
  return {
    key: doc.key,
    pos: doc.events[0].pos,
    eventId: doc.events[0].id,
    pending: doc.events.length,
    attempts: doc.attempts,
    nextAttemptAt: doc.nextAttemptAt,
    lastError: doc.lastError,
    parkedAt: doc.parkedAt,
  };
}

/** One line per parked key of the summary, for readiness reports and logs. */
export function describeParked(subscription: string, summary: ParkedSummary): string[] {
  const lines = summary.keys.map((k) => {
    const next = k.nextAttemptAt > 0 ? new Date(k.nextAttemptAt).toISOString() : "now";
    return (
      `subscription ${subscription}: key ${k.key} parked at position ${k.pos} (${k.pending} event(s) waiting, ` +
      `${k.attempts} attempt(s), next ${next}): ${k.lastError}`
    );
  });
  const more = summary.count - summary.keys.length;
  return more > 0 ? [...lines, `subscription ${subscription}: ${more} more parked key(s)`] : lines;
}

/**
 * The parked keys of every subscription, in the store shared by the nodes: the store is the
 * truth, so a restart or another node taking over the lease finds them as they were left.
 * (No index on `subscription`: parked keys are few, and a scan of them is cheap.)
 */
export class ParkedKeys {
  private readonly docs: DocCollection<ParkedKeyDoc>;

  constructor(
    store: Store,
    readonly subscription: string,
    private readonly now: () => number = Date.now,
  ) {
    this.docs = store.collection<ParkedKeyDoc>(PARKED_KEYS);
  }

  async list(): Promise<ParkedKeyDoc[]> {
    const docs = await this.docs.find({ subscription: this.subscription });
    return docs.sort((a, b) => a.events[0].pos - b.events[0].pos || a.key.localeCompare(b.key));
  }

  get(key: string): Promise<ParkedKeyDoc | null> {
    return this.docs.get(parkedKeyId(this.subscription, key));
  }

  async summary(limit = 5): Promise<ParkedSummary> {
    const docs = await this.list();
    return { count: docs.length, keys: docs.slice(0, limit).map(viewOf) };
  }

  /**
   * Queues `events` (in log order) behind the key, parking it when it is not yet: `failure`
   * says why when the key is parked by this call. Events at or below the key's `through` are
   * already accounted for and ignored.
   */
  async enqueue(
    key: string,
    events: readonly ParkedEventRef[],
    through: number,
    failure: { error: string; nextAttemptAt: number } | null,
  ): Promise<ParkedKeyDoc> {
    const _id = parkedKeyId(this.subscription, key);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const doc = await this.docs.get(_id);
      const now = this.now();
      if (!doc) {
        if (events.length === 0) throw new Error(`parking ${this.subscription} key ${key} with no event`);
        const fresh: ParkedKeyDoc = {
          _id,
          subscription: this.subscription,
          key,
          events: [...events],
          through,
          attempts: 1,
          nextAttemptAt: failure?.nextAttemptAt ?? now,
          lastError: failure?.error ?? "",
          parkedAt: now,
          updatedAt: now,
          version: 1,
        };
        try {
          await this.docs.insert(fresh);
          return fresh;
        } catch (err) {
          if (!(err instanceof DuplicateKeyError)) throw err;
          continue;
        }
      }
      const fresh = events.filter((e) => e.pos > doc.through);
      if (fresh.length === 0) return doc;
      const next = { ...doc, events: [...doc.events, ...fresh], through: Math.max(doc.through, through), updatedAt: now };
      if (await this.replace(doc, next)) return { ...next, version: doc.version + 1 };
    }
    throw new Error(`parking ${this.subscription} key ${key}: too many concurrent changes`);
  }

  /** Writes `next` if the document is still `current`; a queue emptied removes the key. */
  async replace(current: ParkedKeyDoc, next: ParkedKeyDoc): Promise<boolean> {
    if (next.events.length === 0) return this.docs.deleteOne({ _id: current._id, version: current.version });
    return this.docs.replaceOne({ _id: current._id, version: current.version }, { ...next, version: current.version + 1 });
  }

  /**
   * Applies `change` to the key's current document under compare-and-set (`change` answers null
   * to leave it as it is); null when the key is not parked (any more).
   */
  async change(
    key: string,
    change: (doc: ParkedKeyDoc) => ParkedKeyDoc | null,
  ): Promise<{ before: ParkedKeyDoc; after: ParkedKeyDoc } | null> {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const doc = await this.get(key);
      if (!doc) return null;
      const changed = change(doc);
      if (!changed) return { before: doc, after: doc };
      const next = { ...changed, updatedAt: this.now() };
      if (await this.replace(doc, next)) return { before: doc, after: { ...next, version: doc.version + 1 } };
    }
    throw new Error(`parked ${this.subscription} key ${key}: too many concurrent changes`);
  }

  /** Admin: try the key at the runner's next turn instead of waiting out the backoff. */
  retryNow(key: string): Promise<{ before: ParkedKeyDoc; after: ParkedKeyDoc } | null> {
    return this.change(key, (doc) => ({ ...doc, nextAttemptAt: 0 }));
  }

  /**
   * Admin: drops the head event for good; the next one is tried at the runner's next turn. (An
   * attempt at that event already under way still finishes: handlers are idempotent anyway.)
   */
  skipHead(key: string): Promise<{ before: ParkedKeyDoc; after: ParkedKeyDoc } | null> {
    return this.change(key, (doc) => ({ ...doc, events: doc.events.slice(1), attempts: 0, nextAttemptAt: 0, lastError: "" }));
  }
}
