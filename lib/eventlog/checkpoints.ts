import { DuplicateKeyError, WriteConflictError, type DocCollection, type DocWrite, type Store } from "../store/types";

export interface RunnerFault {
  pos: number;
  message: string;
  at: number;
}

export interface CheckpointDoc {
  _id: string;
  pos: number;
  owner: string | null;
  leaseUntil: number;
  updatedAt: number;
  /** Set while the runner is halted on a poison event or a hole in the log. */
  fault: RunnerFault | null;
}

export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
  constructor(
    readonly runner: string,
    readonly owner: string,
  ) {
    super(`runner ${runner}: ${owner} no longer holds the lease (another runner took over)`);
  }
}

export const CHECKPOINTS = "checkpoints";

/**
 * Checkpoints under a lease. Every write names the owner and the position it read, so a runner
 * that stalled past its lease (GC pause, partition) finds its write refused instead of moving a
 * newer checkpoint backwards.
 */
export class Checkpoints {
  private readonly docs: DocCollection<CheckpointDoc>;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    this.docs = store.collection<CheckpointDoc>(CHECKPOINTS);
  }

  get(name: string): Promise<CheckpointDoc | null> {
    return this.docs.get(name);
  }

  /** Takes or renews the lease; returns the checkpoint when this owner now holds it. */
  async acquire(name: string, owner: string, leaseMs: number): Promise<CheckpointDoc | null> {
    const now = this.now();
    try {
      await this.docs.insert({ _id: name, pos: 0, owner: null, leaseUntil: 0, updatedAt: now, fault: null });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    const taken = await this.docs.updateOne(
      { _id: name, $or: [{ owner }, { leaseUntil: { $lt: now } }] },
      { owner, leaseUntil: now + leaseMs },
    );
    return taken ? this.docs.get(name) : null;
  }

  /**
   * Moves the checkpoint from `from` to `to`, committing `writes` (what the batch changed) with
   * it: in one transaction where the store has them, so a fenced-off runner writes nothing.
   * Throws LeaseLostError when fenced off.
   */
  async advance(
    name: string,
    owner: string,
    from: number,
    to: number,
    leaseMs: number,
    writes: readonly DocWrite[] = [],
  ): Promise<void> {
    const now = this.now();
    const checkpoint: DocWrite = {
      collection: CHECKPOINTS,
      op: "update",
      filter: { _id: name, owner, pos: from, leaseUntil: { $gte: now } },
      set: { pos: to, leaseUntil: now + leaseMs, updatedAt: now, fault: null },
    };
    try {
      await this.store.write([...writes, checkpoint]);
    } catch (err) {
      if (err instanceof WriteConflictError && err.write === checkpoint) throw new LeaseLostError(name, owner);
      throw err;
    }
  }

  async renew(name: string, owner: string, pos: number, leaseMs: number): Promise<void> {
    const now = this.now();
    const ok = await this.docs.updateOne({ _id: name, owner, pos, leaseUntil: { $gte: now } }, { leaseUntil: now + leaseMs });
    if (!ok) throw new LeaseLostError(name, owner);
  }

  async recordFault(name: string, owner: string, fault: RunnerFault | null): Promise<void> {
    await this.docs.updateOne({ _id: name, owner }, { fault, updatedAt: this.now() });
  }

  async release(name: string, owner: string): Promise<void> {
    await this.docs.updateOne({ _id: name, owner }, { leaseUntil: 0 });
  }

  async remove(name: string): Promise<void> {
    await this.docs.deleteOne({ _id: name });
  }
}
