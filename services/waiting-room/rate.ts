/**
 * The automatic admission rate: admit as fast as the sales path actually sustains. Pure, so
 * its rules are tested with numbers (test/unit/waiting-room/rate.test.ts).
 */
import type { Pace } from "../inventory/pace";

export interface AutoRate {
  /** Admissions per second. */
  rate: number;
  /** When it was last changed. */
  at: number;
}

export const AUTO_RATE = {
  /** Where a sale starts: modest, before anything is measured. */
  startRate: 50,
  minRate: 5,
  maxRate: 10_000,
  /** Hold latency (p99) the path should stay under. */
  targetP99Ms: 100,
  /** The rate climbs toward this multiple of the holds/s measured... */
  headroom: 1.5,
  /** ...by at most this factor per step... */
  step: 1.25,
  /** ...and is cut by this factor when the latency goes over the target. */
  backoff: 0.5,
  /** One step per this long: the measurement must see the last change first. */
  everyMs: 1000,
};

export function nextAutoRate(prev: AutoRate | null, pace: Pace, at: number, o = AUTO_RATE): AutoRate {
  if (!prev) return { rate: Math.min(o.startRate, Math.max(o.minRate, pace.available)), at };
  if (at - prev.at < o.everyMs) return prev;
  let rate: number;
  // Cut, but never below what the path has just shown it sustains: a slow hold can also be the
  // event loop busy with the crowd joining and polling, and starving the sale of buyers for it
  // made an on-sale of 1,000 tickets last minutes (measured: 50/s fell to 5/s in four seconds).
  if (pace.holdP99Ms !== null && pace.holdP99Ms > o.targetP99Ms) rate = Math.max(prev.rate * o.backoff, pace.holdsPerSec);
  else {
    // Up toward what the path shows it can take; never below the start (buyers may simply be slow).
    const ceiling = Math.max(o.startRate, o.headroom * pace.holdsPerSec);
    rate = Math.min(ceiling, prev.rate * o.step);
  }
  // More admissions per second than tickets left would only queue buyers at the inventory.
  rate = Math.min(rate, Math.max(o.minRate, pace.available));
  return { rate: Math.round(Math.max(o.minRate, Math.min(o.maxRate, rate))), at };
}
