import type { ParkedControl } from "../eventlog/parked-keys";
import type { RunnerStatus } from "../eventlog/runner";

export type RunnerKind = "projection" | "subscription" | "bridge";

/** Anything on this node that consumes the log: a projection host or a subscription. */
export interface RunnerEntry {
  name: string;
  /** A bridge runner feeds partners: its trouble degrades their streams, not what clients are served. */
  kind: RunnerKind;
  status(): Promise<RunnerStatus[]>;
  resume(): void;
  wake(log: string): void;
  rebuild?(): Promise<number>;
  /** A partitioned subscription's parked keys: the store holds them, so any node can steer them. */
  parked?: ParkedControl;
}

/** The runners of this process, for the REPL, readiness and wake-ups. */
export class RunnerRegistry {
  private readonly entries = new Map<string, RunnerEntry>();

  add(entry: RunnerEntry): void {
    if (this.entries.has(entry.name)) throw new Error(`runner ${entry.name} is already registered on this node`);
    this.entries.set(entry.name, entry);
  }

  remove(name: string): void {
    this.entries.delete(name);
  }

  get(name: string): RunnerEntry | undefined {
    return this.entries.get(name);
  }

  list(): RunnerEntry[] {
    return [...this.entries.values()];
  }

  wake(log: string): void {
    for (const entry of this.entries.values()) entry.wake(log);
  }
}
