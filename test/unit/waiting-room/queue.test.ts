import { fold } from "../../../lib/eventlog/decider";
import type { Commit } from "../../../lib/eventlog/types";
import { MAX_CREDIT_MS, PENDING_WINDOW_MS, queueDecider } from "../../../services/waiting-room/queue.decider";
import type { QueueCommand, QueueEvent, QueueState } from "../../../services/waiting-room/queue.types";
import { placeView } from "../../../services/waiting-room/queue.view";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const OPENS = T0 + 60_000;
const TTL = 600_000;

const join = (sub: string, at: number, draw = 0): QueueCommand => ({
  type: "Join",
  eventId: "e1",
  sub,
  at,
  opensAt: OPENS,
  draw,
});
const tick = (at: number, rate: number, available: number | null = 1000): QueueCommand => ({
  type: "Tick",
  eventId: "e1",
  at,
  opensAt: OPENS,
  rate,
  available,
});

/** Decides and applies commands one by one, as the mailbox does; returns the state and all events. */
function run(commands: QueueCommand[], state = queueDecider.initialState()): { state: QueueState; events: QueueEvent[] } {
  const events: QueueEvent[] = [];
  for (const command of commands) {
    for (const event of queueDecider.decide(command, state)) {
      events.push(event);
      state = queueDecider.evolve(state, event);
    }
  }
  return { state, events };
}

/** The state as a reload from the log rebuilds it. */
function reload(events: QueueEvent[]): QueueState {
  const commit = { events: events.map((e, i) => ({ ...e, id: String(i) })) } as unknown as Commit;
  return fold(queueDecider, queueDecider.initialState(), [commit]);
}

const view = (state: QueueState, sub: string, now: number, rate = 10) =>
  placeView(state, sub, now, { opensAt: OPENS, rate, admissionTtlMs: TTL });

describe("waiting room queue decider", () => {
  test("joins before the start are a pre-queue ordered by their drawn keys at the start, not by arrival", () => {
    const draws = [0.7, 0.1, 0.9, 0.4].map((d) => Math.round(d * 2 ** 40));
    const { state, events } = run([...["a", "b", "c", "d"].map((s, i) => join(s, T0 + i, draws[i])), tick(OPENS, 10)]);
    expect(events.filter((e) => e.type === "PlaceTaken").every((e) => (e.data as { key?: number }).key !== undefined)).toBe(true);
    expect(state.order).toEqual(["b", "d", "a", "c"]);
    // Reloaded from the log: the same order (the keys are in the events).
    expect(reload(events).order).toEqual(["b", "d", "a", "c"]);
  });

  test("a pre-queue member has no position until the start; then a number, 1-based", () => {
    const before = run([join("a", T0, 5), join("b", T0 + 1, 3)]).state;
    expect(view(before, "a", T0 + 2)).toMatchObject({ status: "waiting", preQueue: true, position: null, ahead: null });
    expect(view(before, "a", T0 + 2)!.estimatedWaitSec).toBe(60);
    const after = run([tick(OPENS, 0)], before).state;
    expect(view(after, "a", OPENS)).toMatchObject({ preQueue: false, position: 2, ahead: 1 });
  });

  test("after the start, first come first served behind the pre-queue; the first join after the start opens it", () => {
    const { state, events } = run([join("p", T0, 1), join("x", OPENS + 5), join("y", OPENS + 6)]);
    expect(events.map((e) => e.type)).toEqual(["PlaceTaken", "QueueOpened", "PlaceTaken", "PlaceTaken"]);
    expect(state.order).toEqual(["p", "x", "y"]);
    expect((events[2].data as { key?: number }).key).toBeUndefined();
  });

  test("one place per account: a repeat changes nothing", () => {
    const { state } = run([join("a", T0, 1), join("b", OPENS + 1)]);
    expect(queueDecider.decide(join("a", OPENS + 2, 99), state)).toEqual([]);
    expect(queueDecider.decide(join("b", OPENS + 3), state)).toEqual([]);
  });

  test("admissions follow the clock: rate x elapsed; a repeated tick at the same instant admits nobody more", () => {
    const people = Array.from({ length: 50 }, (_, i) => join(`u${i}`, OPENS + i));
    let { state } = run([tick(OPENS, 10), ...people]);
    ({ state } = run([tick(OPENS + 500, 10)], state));
    expect(state.admitted).toBe(5);
    expect(queueDecider.decide(tick(OPENS + 500, 10), state)).toEqual([]);
    ({ state } = run([tick(OPENS + 700, 10)], state));
    expect(state.admitted).toBe(7);
    // Credit beyond MAX_CREDIT_MS is not kept.
    ({ state } = run([tick(OPENS + 700 + 10 * MAX_CREDIT_MS, 10)], state));
    expect(state.admitted).toBe(7 + 10);
  });

  test("never more admitted within the pending window than tickets available", () => {
    const people = Array.from({ length: 50 }, (_, i) => join(`u${i}`, OPENS + i));
    let { state } = run([tick(OPENS, 100), ...people, tick(OPENS + 1000, 100, 8)]);
    expect(state.admitted).toBe(8);
    ({ state } = run([tick(OPENS + 2000, 100, 8)], state));
    expect(state.admitted).toBe(8);
    // Once those admissions are older than the window, the next may come.
    ({ state } = run([tick(OPENS + 1000 + PENDING_WINDOW_MS + 1, 100, 3)], state));
    expect(state.admitted).toBe(11);
  });

  test("nothing left to hold: sold out once, told to the waiting; tickets back: reopened and admitting again", () => {
    const people = Array.from({ length: 10 }, (_, i) => join(`u${i}`, OPENS + i));
    let { state, events } = run([tick(OPENS, 100), ...people, tick(OPENS + 20, 100, 2)]);
    expect(state.admitted).toBe(2);
    ({ state, events } = run([tick(OPENS + 100, 100, 0), tick(OPENS + 200, 100, 0)], state));
    expect(events.map((e) => e.type)).toEqual(["QueueSoldOut"]);
    expect(view(state, "u5", OPENS + 200)).toMatchObject({ status: "sold_out", position: 6 });
    expect(view(state, "u0", OPENS + 200)!.status).toBe("admitted");
    ({ state, events } = run([tick(OPENS + 10_000, 100, 1)], state));
    expect(events.map((e) => e.type)).toEqual(["QueueReopened"]);
    ({ state } = run([tick(OPENS + 10_500, 100, 1)], state));
    expect(state.admitted).toBe(3);
    expect(view(state, "u2", OPENS + 10_500)!.status).toBe("admitted");
  });

  test("an unknown availability changes nothing; nothing happens before the start", () => {
    const { state } = run([join("a", T0, 1)]);
    expect(queueDecider.decide(tick(OPENS - 1, 100), state)).toEqual([]);
    expect(queueDecider.decide(tick(OPENS, 100, null), state).map((e) => e.type)).toEqual(["QueueOpened"]);
  });

  test("an admission expires after the TTL and stays expired; the account keeps its place and is not admitted again", () => {
    let { state } = run([tick(OPENS, 10), join("a", OPENS + 1), join("b", OPENS + 2), tick(OPENS + 200, 10)]);
    const admitted = view(state, "a", OPENS + 300)!;
    expect(admitted).toMatchObject({ status: "admitted", position: 1, expiresAt: OPENS + 200 + TTL });
    expect(queueDecider.decide(join("a", OPENS + TTL, 7), state)).toEqual([]);
    ({ state } = run([tick(OPENS + TTL + 1000, 10)], state));
    expect(view(state, "a", OPENS + TTL + 1000)).toMatchObject({ status: "expired", position: 1, expiresAt: OPENS + 200 + TTL });
    expect(state.order).toEqual(["a", "b"]);
  });

  test("the wait estimate grows with the line and the next poll comes later far back", () => {
    const people = Array.from({ length: 2000 }, (_, i) => join(`u${i}`, OPENS + i));
    const { state } = run([tick(OPENS, 0), ...people]);
    const near = view(state, "u1", OPENS + 5000, 50)!;
    const far = view(state, "u1999", OPENS + 5000, 50)!;
    expect(near).toMatchObject({ status: "waiting", ahead: 1, estimatedWaitSec: 1, retryAfterSec: 1 });
    expect(far.ahead).toBe(1999);
    expect(far.estimatedWaitSec).toBe(40);
    expect(far.retryAfterSec).toBeGreaterThan(near.retryAfterSec);
  });

  test("no place: null", () => {
    expect(view(queueDecider.initialState(), "nobody", T0)).toBeNull();
  });
});
