/** What the inventory says of one event now (inventory.pace). */
export interface Pace {
  /** Tickets left to hold. */
  available: number;
  held: number;
  sold: number;
  /** Holds placed per second over the last few seconds. */
  holdsPerSec: number;
  /** The 99th percentile of hold latency over the same seconds; null without holds. */
  holdP99Ms: number | null;
}

/** How far back the pace of holds is measured. */
export const PACE_WINDOW_MS = 5000;

/**
 * The pace of one event's holds as its mailbox sees them: holds placed per second and the
 * latency of hold requests (queueing in the mailbox included), over the last few seconds.
 * The waiting room's automatic rate reads it (inventory.pace).
 */
export class PaceMeter {
  private at: number[] = [];
  private ms: number[] = [];
  private placed: boolean[] = [];

  record(at: number, latencyMs: number, placed: boolean): void {
    this.at.push(at);
    this.ms.push(latencyMs);
    this.placed.push(placed);
    this.trim(at);
  }

  snapshot(now: number): { holdsPerSec: number; holdP99Ms: number | null } {
    this.trim(now);
    if (this.ms.length === 0) return { holdsPerSec: 0, holdP99Ms: null };
    const placed = this.placed.filter(Boolean).length;
    const sorted = [...this.ms].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
    return { holdsPerSec: placed / (PACE_WINDOW_MS / 1000), holdP99Ms: Math.round(p99) };
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.at.length && this.at[drop] <= now - PACE_WINDOW_MS) drop++;
    if (drop === 0) return;
    this.at.splice(0, drop);
    this.ms.splice(0, drop);
    this.placed.splice(0, drop);
  }
}
