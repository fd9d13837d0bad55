import { EventLoopDelay } from "../../../lib/metrics/event-loop";
import { METRICS } from "../../../lib/metrics/app-metrics";
import { testMetrics } from "../../support/metrics";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the event loop, as a long synchronous write would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("the event loop's delay gauge", () => {
  test("shows a stall in the next scrape, and only there", async () => {
    const { metrics, figure } = testMetrics();
    const loop = new EventLoopDelay(10);
    try {
      await sleep(50);
      stall(600);
      // A few turns of the loop: the sampling timer records the stall when it next fires.
      await sleep(200);
      loop.collect(metrics);
      expect(figure(METRICS.eventLoopDelayMax, {})).toBeGreaterThanOrEqual(0.55);
      expect(figure(METRICS.eventLoopDelayP99, {})).toBeGreaterThan(0);

      // The next window had no stall of that size: the one before does not linger in it.
      await sleep(100);
      loop.collect(metrics);
      expect(figure(METRICS.eventLoopDelayMax, {})).toBeGreaterThan(0);
      expect(figure(METRICS.eventLoopDelayMax, {})).toBeLessThan(0.55);
    } finally {
      loop.stop();
    }
  });
});
