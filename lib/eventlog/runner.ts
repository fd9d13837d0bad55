import { Checkpoints, LeaseLostError, type RunnerFault } from "./checkpoints";
import type { ParkedSummary } from "./parked-keys";
import type { DocWrite } from "../store/types";
import type { Commit, EventLog } from "./types";

export type RunnerState = "starting" | "standby" | "running" | "idle" | "halted" | "stopped";

export interface RunnerStatus {
  name: string;
  state: RunnerState;
  pos: number;
  head: number;
  lag: number;
  owner: string;
  fault: RunnerFault | null;
  /** The last error that did not halt the runner (e.g. the store was unreachable). */
  lastError: string | null;
  /** Keys set aside by a partitioned subscription while the rest flows; absent for runners that never park. */
  parked?: ParkedSummary;
}

/**
 * What a runner that parks failing keys instead of halting (a partitioned subscription) adds
 * to the loop: its handler parks, this retries.
 */
export interface RunnerParking {
  /**
   * Tries the parked keys that are due; only keys whose events all lie at or before `pos`.
   * Stops between events once `shouldYield` says so (stopping, or the lease wants renewing).
   */
  retryDue(pos: number, shouldYield: () => boolean): Promise<void>;
  summary(): Promise<ParkedSummary>;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_RETRY_DELAY_MS = 200;

export interface RunnerLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface RunnerOptions {
  name: string;
  log: EventLog;
  checkpoints: Checkpoints;
  /**
   * Applies commits in order. Must be idempotent: after a crash the last batch comes again.
   * Writes it returns are committed with the checkpoint (together, where the store can).
   */
  handle(commits: readonly Commit[]): Promise<void | readonly DocWrite[]>;
  /**
   * Whether a commit holds anything `handle` acts on (a subscription's event types). A batch
   * with none is passed over without calling `handle`, and its checkpoint is written lazily
   * (with the next batch that matters, or CHECKPOINT_LAZY_MS later): after a crash those
   * commits are only passed over again. Absent: every commit matters.
   */
  relevant?(commit: Commit): boolean;
  owner: string;
  logger: RunnerLogger;
  batchSize?: number;
  /** The slow poll that catches anything a lost wake-up would have missed. */
  pollMs?: number;
  leaseMs?: number;
  /** How long a hole in the positions may persist before the runner halts on it. */
  gapTimeoutMs?: number;
  /** Attempts at one commit before it is declared poison and the runner halts. */
  attempts?: number;
  retryDelayMs?: number;
  parking?: RunnerParking;
}

/** Longest a runner passing over commits it has no interest in leaves its checkpoint behind. */
export const CHECKPOINT_LAZY_MS = 1000;

/** stop() was asked for before a batch was applied: the batch is left for the next start, and that is no fault. */
class StoppingError extends Error {}

interface Waiter {
  pos: number;
  resolve(): void;
}

/**
 * The one mechanism behind every consumer of the log (projections, notifications, the Kafka
 * relay): pull commits after the checkpoint in position order, apply them, advance the
 * checkpoint under a lease. It never skips: a hole in the positions or a commit that keeps
 * failing halts the runner where it is, visibly, until an operator resumes it.
 */
export class Runner {
  readonly name: string;
  private readonly o: Required<Omit<RunnerOptions, "handle" | "log" | "checkpoints" | "logger" | "parking" | "relevant">>;
  private state: RunnerState = "starting";
  private pos = 0;
  /** What the checkpoint says; behind `pos` while passed-over commits are not recorded yet. */
  private durablePos = 0;
  private durableAt = 0;
  private leaseUntil = 0;
  private fault: RunnerFault | null = null;
  private lastError: string | null = null;
  private gapSince: number | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private waiters: Waiter[] = [];

  constructor(private readonly options: RunnerOptions) {
    this.name = options.name;
    this.o = {
      name: options.name,
      owner: options.owner,
      batchSize: options.batchSize ?? 500,
      pollMs: options.pollMs ?? 1000,
      leaseMs: options.leaseMs ?? 15_000,
      gapTimeoutMs: options.gapTimeoutMs ?? 5_000,
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    // Commits passed over are recorded, so the next start does not look at them again.
    if (this.leaseUntil > 0 && this.durablePos < this.pos) await this.record([], this.pos).catch(() => undefined);
    if (this.leaseUntil > 0) await this.options.checkpoints.release(this.name, this.o.owner).catch(() => undefined);
    this.state = "stopped";
    this.leaseUntil = 0;
  }

  /** Something was appended: look now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Clears a halt so the runner tries the commit it stopped at again. */
  resume(): void {
    if (this.state !== "halted") return;
    this.fault = null;
    this.state = "starting";
    this.wake();
  }

  get position(): number {
    return this.pos;
  }

  async status(): Promise<RunnerStatus> {
    const head = await this.options.log.head().catch(() => this.pos);
    return {
      name: this.name,
      state: this.state,
      pos: this.pos,
      head,
      lag: Math.max(0, head - this.pos),
      owner: this.o.owner,
      fault: this.fault,
      lastError: this.lastError,
      // An unreachable store shows as the runner's lastError; the status still answers.
      parked: await this.options.parking?.summary().catch(() => undefined),
    };
  }

  /** Resolves once the runner has applied `pos` (or at once if it already has). */
  waitFor(pos: number, timeoutMs: number): Promise<boolean> {
    if (this.pos >= pos) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { pos, resolve: () => resolve(true) };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.state === "halted") {
          await this.sleep(this.o.pollMs);
        } else if (!(await this.holdLease())) {
          this.state = "standby";
          await this.sleep(Math.min(this.o.pollMs, this.o.leaseMs / 3));
        } else {
          const next = await this.step();
          // After the step, so a key is retried only once the checkpoint covers what it queued.
          if (next !== "wait" && !this.fault) await this.options.parking?.retryDue(this.pos, () => this.shouldYield());
          if (next === "idle") {
            this.state = "idle";
            await this.sleep(this.o.pollMs);
          } else if (next === "wait") {
            await this.sleep(Math.min(50, this.o.pollMs));
          } else {
            // A store that answers synchronously (the embedded one) resolves every await at
            // once: without this, a catch-up of a long log would hold the event loop to the end.
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        this.lastError = null;
      } catch (err) {
        if (err instanceof StoppingError) break;
        if (err instanceof LeaseLostError) {
          this.options.logger.warn(`runner ${this.name}: lease lost, standing by`);
          this.leaseUntil = 0;
          continue;
        }
        this.lastError = errorMessage(err);
        this.options.logger.warn(`runner ${this.name}: ${this.lastError}; retrying`);
        await this.sleep(this.o.retryDelayMs * 5);
      }
    }
  }

  private async holdLease(): Promise<boolean> {
    const now = Date.now();
    if (this.leaseUntil - now > this.o.leaseMs / 2) return true;
    const cp = await this.options.checkpoints.acquire(this.name, this.o.owner, this.o.leaseMs);
    if (!cp) {
      this.leaseUntil = 0;
      return false;
    }
    if (this.leaseUntil === 0) {
      this.pos = this.durablePos = cp.pos;
      this.options.logger.info(`runner ${this.name}: holds the lease, starting after position ${cp.pos}`);
    } else if (cp.pos !== this.durablePos) {
      // Someone else ran while our lease had lapsed: continue from what they recorded.
      this.pos = this.durablePos = cp.pos;
    }
    this.leaseUntil = now + this.o.leaseMs;
    return true;
  }

  private async step(): Promise<"progress" | "idle" | "wait"> {
    const commits = await this.options.log.readFrom(this.pos, this.o.batchSize);
    if (commits.length === 0) {
      this.gapSince = null;
      // Caught up: what was passed over gets recorded once it is due.
      if (this.durablePos < this.pos && Date.now() - this.durableAt >= CHECKPOINT_LAZY_MS) await this.record([], this.pos);
      return "idle";
    }
    const run = contiguousRun(commits, this.pos);
    if (run.length === 0) return this.onHole(commits[0].pos);
    this.gapSince = null;
    this.state = "running";
    const { relevant } = this.options;
    if (relevant && !run.some((commit) => relevant(commit))) await this.passOver(run[run.length - 1].pos);
    else await this.apply(run);
    return "progress";
  }

  /**
   * A missing position is either a write still in flight (it shows up in a moment) or data
   * loss; after gapTimeoutMs it is treated as the latter, because skipping it would silently
   * drop whatever it holds.
   */
  private onHole(nextSeen: number): "wait" {
    const now = Date.now();
    this.gapSince ??= now;
    if (now - this.gapSince >= this.o.gapTimeoutMs) {
      this.halt(
        this.pos + 1,
        `position ${this.pos + 1} is missing from log ${this.options.log.name} (next present: ${nextSeen})`,
      );
    }
    return "wait";
  }

  private async apply(run: Commit[]): Promise<void> {
    try {
      await this.attempt(run);
    } catch (err) {
      if (err instanceof LeaseLostError || err instanceof StoppingError) throw err;
      if (run.length === 1) return this.halt(run[0].pos, errorMessage(err));
      // Replay one by one to find the commit that fails and keep everything before it.
      for (const commit of run) {
        try {
          await this.attempt([commit]);
        } catch (single) {
          if (single instanceof LeaseLostError || single instanceof StoppingError) throw single;
          return this.halt(commit.pos, errorMessage(single));
        }
      }
    }
  }

  private async attempt(run: Commit[]): Promise<void> {
    let failure: unknown;
    let writes: readonly DocWrite[] = [];
    for (let i = 0; i < this.o.attempts; i++) {
      if (this.stopping) throw new StoppingError(`runner ${this.name} is stopping`);
      try {
        writes = (await this.options.handle(run)) ?? [];
        failure = undefined;
        break;
      } catch (err) {
        failure = err;
        if (i + 1 < this.o.attempts) await delay(this.o.retryDelayMs * (i + 1));
      }
    }
    if (failure !== undefined) throw failure;
    await this.record(writes, run[run.length - 1].pos);
    this.fault = null;
  }

  /** Nothing in these commits for this runner: move on, and write the checkpoint only now and then. */
  private async passOver(to: number): Promise<void> {
    if (Date.now() - this.durableAt >= CHECKPOINT_LAZY_MS) return this.record([], to);
    this.pos = to;
    this.releaseWaiters();
  }

  private async record(writes: readonly DocWrite[], to: number): Promise<void> {
    await this.options.checkpoints.advance(this.name, this.o.owner, this.durablePos, to, this.o.leaseMs, writes);
    this.durableAt = Date.now();
    this.leaseUntil = this.durableAt + this.o.leaseMs;
    this.pos = this.durablePos = to;
    this.releaseWaiters();
  }

  /**
   * Parked-key retries pause between events when the runner stops, or when the lease needs
   * renewing before it lapses (then the loop comes straight back instead of sleeping).
   */
  private shouldYield(): boolean {
    if (this.stopping) return true;
    if (this.leaseUntil - Date.now() > this.o.leaseMs / 4) return false;
    this.woken = true;
    return true;
  }

  private halt(pos: number, message: string): void {
    this.fault = { pos, message, at: Date.now() };
    this.state = "halted";
    this.options.logger.error(`runner ${this.name}: halted at position ${pos}: ${message}`);
    this.options.checkpoints.recordFault(this.name, this.o.owner, this.fault).catch(() => undefined);
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.pos <= this.pos);
    this.waiters = this.waiters.filter((w) => w.pos > this.pos);
    for (const w of ready) w.resolve();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** The commits that directly follow `after` without a hole. */
export function contiguousRun(commits: readonly Commit[], after: number): Commit[] {
  const run: Commit[] = [];
  for (const commit of commits) {
    if (commit.pos !== after + run.length + 1) break;
    run.push(commit);
  }
  return run;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
