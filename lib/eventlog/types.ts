/**
 * The event log's vocabulary. A commit is what one command appended to one stream: it is the
 * unit of atomicity, of optimistic concurrency (stream + seq is unique) and of global order
 * (pos is unique and contiguous across the whole log).
 */

export interface EventMeta {
  /** The request or saga this event belongs to. */
  correlationId?: string;
  /** The event or command that caused it. */
  causationId?: string;
  /** Who asked for it: a user id, "system", or a service name. */
  actor?: string;
}

export interface NewEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

export interface CommitEvent {
  id: string;
  type: string;
  data: unknown;
}

export interface Commit {
  /** `${stream}:${seq padded}`: the unique id is the optimistic concurrency check. */
  _id: string;
  stream: string;
  /** 1-based number of this commit within its stream: the stream's version after it. */
  seq: number;
  /** Global position in the log: 1, 2, 3... without holes. */
  pos: number;
  /** Epoch milliseconds when it was written. */
  at: number;
  /** Set when the command carried an id, so a retried command is answered with this commit. */
  commandId?: string;
  meta: EventMeta;
  events: CommitEvent[];
}

/** One event as consumers see it: the commit's coordinates plus the event itself. */
export interface RecordedEvent<D = unknown> {
  id: string;
  type: string;
  data: D;
  stream: string;
  /** The stream version (commit seq) that contains this event. */
  version: number;
  /** Index of the event within its commit. */
  index: number;
  pos: number;
  at: number;
  commandId?: string;
  meta: EventMeta;
}

export interface AppendRequest {
  stream: string;
  /** Number of commits the writer saw in the stream (0 for a new stream). */
  expectedSeq: number;
  events: NewEvent[];
  commandId?: string;
  meta?: EventMeta;
}

export interface AppendResult {
  commit: Commit;
  /** True when the command id had already been appended: nothing new was written. */
  duplicate: boolean;
}

export interface EventLog {
  readonly name: string;
  append(request: AppendRequest): Promise<AppendResult>;
  findByCommandId(commandId: string): Promise<Commit | null>;
  /** Commits of one stream with seq > afterSeq, in order. */
  readStream(stream: string, afterSeq?: number): Promise<Commit[]>;
  /** Commits with pos > afterPos, ascending, at most `limit`. May show holes; runners check. */
  readFrom(afterPos: number, limit: number): Promise<Commit[]>;
  /** The highest position written (0 when empty). */
  head(): Promise<number>;
}

/** Test hooks that widen race windows; never set in production. */
export interface EventLogHooks {
  /** Runs after a position was chosen and before the commit is written. */
  beforeInsert?(pos: number): Promise<void>;
}

const SEQ_DIGITS = 10;

export function commitId(stream: string, seq: number): string {
  return `${stream}:${String(seq).padStart(SEQ_DIGITS, "0")}`;
}

export function eventsOf(commit: Commit): RecordedEvent[] {
  return commit.events.map((e, index) => ({
    id: e.id,
    type: e.type,
    data: e.data,
    stream: commit.stream,
    version: commit.seq,
    index,
    pos: commit.pos,
    at: commit.at,
    commandId: commit.commandId,
    meta: commit.meta,
  }));
}
