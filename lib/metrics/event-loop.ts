import { monitorEventLoopDelay, type ELDHistogram } from "node:perf_hooks";
import type { AppMetrics } from "./app-metrics";

/**
 * How long ready callbacks waited for the event loop (a stall: a long synchronous write, a
 * GC pause, a big JSON parse), between two scrapes. Moleculer 0.15 no longer measures it.
 * Reset on each scrape, as prom-client does for its event-loop lag, so a stall shows in
 * the scrape after it instead of being averaged away since the start.
 */
export class EventLoopDelay {
  private readonly histogram: ELDHistogram;

  /** `resolutionMs`: how often the loop is sampled; stalls shorter than this are not seen. */
  constructor(resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  collect(metrics: AppMetrics): void {
    const h = this.histogram;
    if (h.count === 0) return;
    metrics.eventLoopDelay(h.max / 1e9, h.percentile(99) / 1e9);
    h.reset();
  }

  stop(): void {
    this.histogram.disable();
  }
}
