import type { Pace } from "../../../services/inventory/pace";
import { AUTO_RATE, nextAutoRate } from "../../../services/waiting-room/rate";

const pace = (p: Partial<Pace>): Pace => ({ available: 1000, held: 0, sold: 0, holdsPerSec: 0, holdP99Ms: null, ...p });
const T0 = 1_000_000;

describe("automatic admission rate", () => {
  test("starts modest, before anything is measured", () => {
    expect(nextAutoRate(null, pace({}), T0)).toEqual({ rate: AUTO_RATE.startRate, at: T0 });
  });

  test("climbs toward 1.5x the holds/s measured while hold latency stays under the target", () => {
    let state = nextAutoRate(null, pace({}), T0);
    const seen: number[] = [];
    for (let s = 1; s <= 20; s++) {
      // The path keeps up with everyone admitted.
      state = nextAutoRate(state, pace({ holdsPerSec: state.rate, holdP99Ms: 20, available: 100_000 }), T0 + s * 1000);
      seen.push(state.rate);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBeGreaterThan(1000);
    // Never past 1.5x what was measured in one step.
    const steady = nextAutoRate({ rate: 400, at: T0 }, pace({ holdsPerSec: 100, holdP99Ms: 20 }), T0 + 1000);
    expect(steady.rate).toBe(150);
  });

  test("cut multiplicatively when the latency goes over the target, but not below the holds/s just sustained", () => {
    const next = nextAutoRate({ rate: 800, at: T0 }, pace({ holdsPerSec: 150, holdP99Ms: 250 }), T0 + 1000);
    expect(next.rate).toBe(400);
    const sustained = nextAutoRate({ rate: 800, at: T0 }, pace({ holdsPerSec: 600, holdP99Ms: 250 }), T0 + 1000);
    expect(sustained.rate).toBe(600);
    expect(nextAutoRate({ rate: 6, at: T0 }, pace({ holdP99Ms: 900 }), T0 + 1000).rate).toBe(AUTO_RATE.minRate);
  });

  test("one step per second at most: the measurement must see the last change first", () => {
    const state = { rate: 100, at: T0 };
    expect(nextAutoRate(state, pace({ holdsPerSec: 1000, holdP99Ms: 10 }), T0 + 300)).toBe(state);
  });

  test("bounded by the tickets available", () => {
    expect(nextAutoRate({ rate: 500, at: T0 }, pace({ holdsPerSec: 1000, holdP99Ms: 10, available: 30 }), T0 + 1000).rate).toBe(
      30,
    );
    expect(nextAutoRate(null, pace({ available: 12 }), T0).rate).toBe(12);
  });

  test("idle buyers (no holds) keep it at the start rate, not at zero", () => {
    expect(nextAutoRate({ rate: 50, at: T0 }, pace({ holdsPerSec: 0 }), T0 + 1000).rate).toBe(AUTO_RATE.startRate);
  });
});
