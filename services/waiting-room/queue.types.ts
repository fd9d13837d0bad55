/** The waiting room's log: one stream per event's queue. */
export const WAITING_LOG = "waiting";

export function queueStream(eventId: string): string {
  return `queue-${eventId}`;
}

/**
 * A buyer asks for a place. `draw` is a random number the service drew for this request: a
 * join before the start keeps it as its ordering key (recorded in the event, so a reload
 * never reorders the pre-queue); the decider itself stays free of randomness and clocks.
 */
export interface Join {
  type: "Join";
  eventId: string;
  sub: string;
  at: number;
  opensAt: number;
  draw: number;
}

/**
 * The admission clock, on the node owning the queue. `rate` is the effective admissions per
 * second (fixed, or what the automatic controller says now); `available` is what the inventory
 * says is left to hold (null: it did not answer, so nothing changes).
 */
export interface Tick {
  type: "Tick";
  eventId: string;
  at: number;
  opensAt: number;
  rate: number;
  available: number | null;
}

export type QueueCommand = Join | Tick;

/** `key` present: joined before the start (the pre-queue), ordered by it at the start. */
export interface PlaceTaken {
  type: "PlaceTaken";
  data: { eventId: string; sub: string; at: number; key?: number };
}

/** The start: the pre-queue is ordered by its keys, and later joins go behind, in arrival order. */
export interface QueueOpened {
  type: "QueueOpened";
  data: { eventId: string; at: number };
}

/** The first `upTo` places of the order are admitted (a watermark: it only grows). */
export interface PlacesAdmitted {
  type: "PlacesAdmitted";
  data: { eventId: string; upTo: number; at: number; rate: number };
}

/** Nothing is left to hold: admissions stop and the waiting hear "sold out". */
export interface QueueSoldOut {
  type: "QueueSoldOut";
  data: { eventId: string; at: number };
}

/** Tickets came back (holds expired, refunds): admissions resume. */
export interface QueueReopened {
  type: "QueueReopened";
  data: { eventId: string; at: number };
}

export type QueueEvent = PlaceTaken | QueueOpened | PlacesAdmitted | QueueSoldOut | QueueReopened;

export interface QueueState {
  /** When the start was recorded; null before (the pre-queue is not ordered yet). */
  openedAt: number | null;
  /** Joined before the start, with their drawn keys. */
  preQueue: Map<string, number>;
  /** Accounts in admission order (after the start). */
  order: string[];
  /** Each account's index in `order`. */
  index: Map<string, number>;
  /** The watermark: order[0 .. admitted) are admitted. */
  admitted: number;
  /** Admission batches in order: places below `upTo` (and above the previous) were admitted at `at`. */
  batches: Array<{ upTo: number; at: number }>;
  /** Admission credit accrues from here (the start, the last admission, a reopening). */
  creditSince: number | null;
  soldOut: boolean;
}
