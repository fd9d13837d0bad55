import type { IncomingMessage, ServerResponse } from "node:http";
import { MetricReporters, type MetricRegistry } from "moleculer";

export interface ScrapeReporterOptions {
  port: number;
  host: string;
  /**
   * Reads the figures that are states, not events (runner positions, parked keys, consumer
   * lag) into their gauges. Run on each scrape, so a gauge is as fresh as the scrape and
   * nothing polls when nobody looks.
   */
  collect(): Promise<void>;
  /** Longest wait for `collect`; past it the scrape answers with the gauges as they were. */
  collectTimeoutMs?: number;
}

/**
 * Moleculer's Prometheus reporter (its own HTTP server, `GET /metrics`), reading our gauges
 * just before each answer: its own handler only formats what the registry already holds.
 */
export class ScrapeReporter extends MetricReporters.Prometheus {
  private readonly collect: () => Promise<void>;
  private readonly collectTimeoutMs: number;

  constructor({ port, host, collect, collectTimeoutMs = 2000 }: ScrapeReporterOptions) {
    super({ port, host, path: "/metrics" });
    this.collect = collect;
    this.collectTimeoutMs = collectTimeoutMs;
  }

  override init(registry: MetricRegistry): void {
    super.init(registry);
    // Moleculer's reporter leaves a failed listen unhandled: stop the node saying which setting.
    this.server.once("error", (err: Error) =>
      registry.broker.fatal(`METRICS_PORT ${this.opts.port}: cannot serve metrics (${err.message})`, err),
    );
  }

  override handler(req: IncomingMessage, res: ServerResponse): void {
    if (req.url !== "/metrics") return super.handler(req, res);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.collectTimeoutMs)));
    void Promise.race([this.collect(), late])
      .catch((err: Error) => this.logger.warn("metrics: reading the gauges failed:", err.message))
      .finally(() => {
        clearTimeout(timer);
        super.handler(req, res);
      });
  }
}
