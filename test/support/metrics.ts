import { ServiceBroker, type MetricRegistry } from "moleculer";
import { AppMetrics } from "../../lib/metrics/app-metrics";

/** Our metrics on an enabled registry, as METRICS_PORT gives a node (without the HTTP reporter). */
export function testMetrics(): { metrics: AppMetrics; figure(name: string, labels: Record<string, string>): number } {
  const registry: MetricRegistry = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] } }).metrics;
  return {
    metrics: new AppMetrics(registry),
    figure: (name, labels) => (registry.getMetric(name)?.get(labels)?.value as number | undefined) ?? 0,
  };
}
