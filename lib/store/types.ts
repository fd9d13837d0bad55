import type { EventLog } from "../eventlog/types";

/**
 * One storage interface, two backends (embedded files for the quick start, MongoDB in
 * production). Everything the event-log core needs goes through it, so one conformance suite
 * proves both behave the same.
 */

export interface Doc {
  _id: string;
}

/** A MongoDB-style query: the subset both stores understand ($lt, $in, $or, $exists, RegExp...). */
export type Filter = Record<string, unknown>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
}

export interface IndexSpec {
  /** One field (a dotted path); compound indexes are not needed by any query yet. */
  field: string;
  unique?: boolean;
  sparse?: boolean;
}

export interface DocCollection<T extends Doc> {
  readonly name: string;
  get(id: string): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter): Promise<number>;
  /** Throws DuplicateKeyError when a unique index (or _id) is violated. */
  insert(doc: T): Promise<void>;
  /** Writes the document whole, creating it when missing (last writer wins: for caches). */
  upsert(doc: T): Promise<void>;
  /** Replaces the one document matching `filter`; false when none matched (a lost CAS). */
  replaceOne(filter: Filter, doc: T): Promise<boolean>;
  /** Sets fields on the one document matching `filter`; false when none matched. */
  updateOne(filter: Filter, set: Partial<T>): Promise<boolean>;
  deleteOne(filter: Filter): Promise<boolean>;
  deleteMany(filter: Filter): Promise<number>;
  ensureIndex(spec: IndexSpec): Promise<void>;
  drop(): Promise<void>;
}

/**
 * One write of a unit that must land together (a projection's documents and its checkpoint).
 * The filtered ones are compare-and-set: matching nothing fails the whole unit.
 */
export type DocWrite = { collection: string } & (
  | { op: "insert"; doc: Doc }
  | { op: "replace"; filter: Filter; doc: Doc }
  | { op: "update"; filter: Filter; set: Record<string, unknown> }
  | { op: "delete"; filter: Filter }
);

export type StoreKind = "embedded" | "mongo";

export interface Store {
  readonly kind: StoreKind;
  /** The commit log of one bounded context; the same instance for the same name. */
  log(name: string): EventLog;
  collection<T extends Doc>(name: string): DocCollection<T>;
  /**
   * Applies the writes in order. The embedded store makes them one transaction (all or none);
   * MongoDB applies them one by one, so there its callers stay idempotent on replay. Throws
   * WriteConflictError when a compare-and-set write matched nothing (embedded: nothing written).
   */
  write(writes: readonly DocWrite[]): Promise<void>;
  /** Resolves when the backend answers; used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DuplicateKeyError extends Error {
  override readonly name = "DuplicateKeyError";
  constructor(
    readonly collection: string,
    detail: string,
  ) {
    super(`duplicate key in ${collection}: ${detail}`);
  }
}

export class VersionConflictError extends Error {
  override readonly name = "VersionConflictError";
  constructor(
    readonly stream: string,
    readonly expectedSeq: number,
  ) {
    super(`stream ${stream} has moved past version ${expectedSeq}`);
  }
}

export class WriteConflictError extends Error {
  override readonly name = "WriteConflictError";
  constructor(readonly write: DocWrite) {
    super(
      `${write.op} in ${write.collection} matched no document (${JSON.stringify("filter" in write ? write.filter : write.doc._id)})`,
    );
  }
}
