import { admittedAt } from "./queue.decider";
import type { QueueState } from "./queue.types";

export type PlaceStatus = "waiting" | "admitted" | "sold_out" | "expired";

/** What a buyer sees of their place (GET /api/events/:id/queue); the service adds the token. */
export interface PlaceView {
  status: PlaceStatus;
  /** Joined before the start: the order is drawn at the start, so no position is known yet. */
  preQueue: boolean;
  /** 1-based place in the order; null in the pre-queue. */
  position: number | null;
  /** Places before this one still waiting; null in the pre-queue. */
  ahead: number | null;
  /** Seconds until admission at the current rate (until the start, in the pre-queue); null when none is coming. */
  estimatedWaitSec: number | null;
  /** When to ask again: soon near the front, later far back. */
  retryAfterSec: number;
  opensAt: number;
  /** Admitted (also when expired): until when the admission lets the buyer order. */
  expiresAt?: number;
}

/** Polls from far back come at most this far apart, so a reopening or the front is noticed in time. */
const MAX_RETRY_SEC = 10;

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));

/** The place of `sub`, or null when the account has none. `rate` is the admissions per second now. */
export function placeView(
  state: QueueState,
  sub: string,
  now: number,
  settings: { opensAt: number; rate: number; admissionTtlMs: number },
): PlaceView | null {
  const { opensAt } = settings;
  if (state.preQueue.has(sub)) {
    const untilStart = Math.max(0, Math.ceil((opensAt - now) / 1000));
    return {
      status: "waiting",
      preQueue: true,
      position: null,
      ahead: null,
      estimatedWaitSec: untilStart,
      retryAfterSec: clamp(untilStart, 1, MAX_RETRY_SEC),
      opensAt,
    };
  }
  const index = state.index.get(sub);
  if (index === undefined) return null;
  const position = index + 1;
  const at = admittedAt(state, index);
  if (at !== null) {
    const expiresAt = at + settings.admissionTtlMs;
    const status = now < expiresAt ? "admitted" : "expired";
    return { status, preQueue: false, position, ahead: 0, estimatedWaitSec: 0, retryAfterSec: MAX_RETRY_SEC, opensAt, expiresAt };
  }
  const ahead = index - state.admitted;
  if (state.soldOut) {
    return {
      status: "sold_out",
      preQueue: false,
      position,
      ahead,
      estimatedWaitSec: null,
      retryAfterSec: MAX_RETRY_SEC,
      opensAt,
    };
  }
  const estimatedWaitSec = Math.ceil((ahead + 1) / Math.max(settings.rate, 1e-3));
  return {
    status: "waiting",
    preQueue: false,
    position,
    ahead,
    estimatedWaitSec,
    retryAfterSec: clamp(Math.ceil(estimatedWaitSec / 10), 1, MAX_RETRY_SEC),
    opensAt,
  };
}
