import type { Decider } from "../../lib/eventlog/decider";
import type { Join, QueueCommand, QueueEvent, QueueState, Tick } from "./queue.types";

/** Unused admission credit older than this is dropped: a quiet second does not become a burst later. */
export const MAX_CREDIT_MS = 1000;
/**
 * Admitted buyers are taken to be still on their way to a hold for this long: admissions stop
 * while those admitted within it already match what is left to hold.
 */
export const PENDING_WINDOW_MS = 5000;

function decideJoin(command: Join, state: QueueState): QueueEvent[] {
  const { eventId, sub, at } = command;
  // One place per account: a repeat is answered with the place it has.
  if (state.index.has(sub) || state.preQueue.has(sub)) return [];
  const opening: QueueEvent[] =
    state.openedAt === null && at >= command.opensAt ? [{ type: "QueueOpened", data: { eventId, at } }] : [];
  const beforeStart = state.openedAt === null && opening.length === 0;
  return [...opening, { type: "PlaceTaken", data: { eventId, sub, at, ...(beforeStart ? { key: command.draw } : {}) } }];
}

/**
 * Admissions follow `at` only: the credit is the rate times the time since the last admission
 * (at most MAX_CREDIT_MS), so a repeated tick with the same `at` admits nobody more.
 */
function decideTick(command: Tick, state: QueueState): QueueEvent[] {
  const { eventId, at } = command;
  const events: QueueEvent[] = [];
  let waiting = state.order.length - state.admitted;
  let since = state.creditSince;
  if (state.openedAt === null) {
    if (at < command.opensAt) return [];
    events.push({ type: "QueueOpened", data: { eventId, at } });
    waiting += state.preQueue.size;
    since = at;
  }
  if (command.available === null) return events;
  if (command.available <= 0) {
    if (!state.soldOut) events.push({ type: "QueueSoldOut", data: { eventId, at } });
    return events;
  }
  if (state.soldOut) {
    events.push({ type: "QueueReopened", data: { eventId, at } });
    since = at;
  }
  const elapsed = Math.min(at - (since ?? at), MAX_CREDIT_MS);
  const credit = Math.floor((command.rate * elapsed) / 1000);
  const room = command.available - admittedSince(state, at - PENDING_WINDOW_MS);
  const n = Math.min(credit, waiting, room);
  if (n > 0) events.push({ type: "PlacesAdmitted", data: { eventId, upTo: state.admitted + n, at, rate: command.rate } });
  return events;
}

/** Places admitted after `from`. */
export function admittedSince(state: QueueState, from: number): number {
  let count = 0;
  for (let i = state.batches.length - 1; i >= 0 && state.batches[i].at > from; i--) {
    count += state.batches[i].upTo - (i > 0 ? state.batches[i - 1].upTo : 0);
  }
  return count;
}

/** When the place at `index` was admitted; null while it waits. */
export function admittedAt(state: QueueState, index: number): number | null {
  if (index >= state.admitted) return null;
  let lo = 0;
  let hi = state.batches.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (state.batches[mid].upTo > index) hi = mid;
    else lo = mid + 1;
  }
  return state.batches[lo].at;
}

/**
 * One event's queue. The state is changed in place (it belongs to one mailbox, which reloads
 * it from the log whenever a write fails): a queue of 20,000 is not copied per join.
 */
export const queueDecider: Decider<QueueCommand, QueueEvent, QueueState> = {
  initialState: () => ({
    openedAt: null,
    preQueue: new Map(),
    order: [],
    index: new Map(),
    admitted: 0,
    batches: [],
    creditSince: null,
    soldOut: false,
  }),
  decide: (command, state) => (command.type === "Join" ? decideJoin(command, state) : decideTick(command, state)),
  evolve: (state, event) => {
    switch (event.type) {
      case "PlaceTaken": {
        const { sub, key } = event.data;
        if (key !== undefined) state.preQueue.set(sub, key);
        else {
          state.index.set(sub, state.order.length);
          state.order.push(sub);
        }
        break;
      }
      case "QueueOpened": {
        // Drawn keys decide; the account id only breaks a tie, so the order is the same on every reload.
        const drawn = [...state.preQueue].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        state.order = [...drawn.map(([sub]) => sub), ...state.order];
        state.index = new Map(state.order.map((sub, i) => [sub, i]));
        state.preQueue = new Map();
        state.openedAt = event.data.at;
        state.creditSince = event.data.at;
        break;
      }
      case "PlacesAdmitted":
        state.admitted = event.data.upTo;
        state.batches.push({ upTo: event.data.upTo, at: event.data.at });
        state.creditSince = event.data.at;
        break;
      case "QueueSoldOut":
        state.soldOut = true;
        break;
      case "QueueReopened":
        state.soldOut = false;
        state.creditSince = event.data.at;
        break;
    }
    return state;
  },
};
