import type { Commit } from "../../eventlog/types";

/**
 * The newest commits of one log, kept in memory as they are written: every runner of the log
 * reads what was just appended, and a hot stream (an order being placed and paid for) is read
 * again by each of its commands. Served from here, those reads cost neither a query nor a JSON
 * parse per reader. Each commit is a frozen copy of what was written, shared by all readers.
 *
 * Only this process writes the log (the data directory's lock), and commits enter in position
 * order after their transaction, so the window is always a gap-free run of positions.
 */
export class RecentCommits {
  private commits: Commit[] = [];
  /** Offset of the oldest live entry in `commits` (evicted entries are dropped in chunks). */
  private start = 0;
  /** The position the window starts at: everything from it on is held here. */
  private firstPos: number;
  /** Streams whose whole history is held (their first commit is in the window). */
  private readonly streams = new Map<string, Commit[]>();

  constructor(
    head: number,
    private readonly capacity: number,
  ) {
    this.firstPos = head + 1;
  }

  /** Commits just written (as their stored JSON), in position order, continuing the window. */
  add(written: readonly string[]): void {
    for (const json of written) {
      const commit = deepFreeze(JSON.parse(json) as Commit);
      this.commits.push(commit);
      if (commit.seq === 1) this.streams.set(commit.stream, [commit]);
      else this.streams.get(commit.stream)?.push(commit);
    }
    const live = this.commits.length - this.start;
    if (live > this.capacity) this.evict(live - this.capacity);
  }

  /**
   * Commits with pos > afterPos, at most `limit`; null when some of them are older than the
   * window (the caller reads those from the table).
   */
  from(afterPos: number, limit: number): Commit[] | null {
    if (afterPos + 1 < this.firstPos) return null;
    const offset = this.start + (afterPos + 1 - this.firstPos);
    return this.commits.slice(offset, offset + limit);
  }

  /** The stream's commits with seq > afterSeq; null when its history is not all held here. */
  stream(stream: string, afterSeq: number): Commit[] | null {
    const held = this.streams.get(stream);
    if (!held) return null;
    return afterSeq === 0 ? held.slice() : held.filter((c) => c.seq > afterSeq);
  }

  /** After a failed write the numbering restarts from what is durable: so does the window. */
  reset(head: number): void {
    this.commits = [];
    this.start = 0;
    this.firstPos = head + 1;
    this.streams.clear();
  }

  private evict(count: number): void {
    for (let i = this.start; i < this.start + count; i++) this.streams.delete(this.commits[i].stream);
    this.start += count;
    this.firstPos += count;
    // Compact once the dead prefix is as long as the window, so eviction stays O(1) per commit.
    if (this.start >= this.capacity) {
      this.commits = this.commits.slice(this.start);
      this.start = 0;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
