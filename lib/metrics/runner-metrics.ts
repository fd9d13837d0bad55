import type { RunnerRegistry } from "../app/runner-registry";
import type { AppMetrics } from "./app-metrics";

/**
 * Position, head and lag of every runner of this node, and the parked keys of its partitioned
 * subscriptions, as their statuses say at the moment of the scrape. A runner whose status
 * cannot be read (the store is away) keeps its last figures; the others are still read.
 */
export async function collectRunnerMetrics(runners: RunnerRegistry, metrics: AppMetrics): Promise<void> {
  await Promise.all(
    runners.list().map(async (entry) => {
      const statuses = await entry.status().catch(() => []);
      for (const status of statuses) {
        metrics.runner(status.name, status.pos, status.head, status.lag);
        if (status.parked) metrics.parked(status.name, status.parked.count);
      }
    }),
  );
}
