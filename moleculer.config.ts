import type { BrokerOptions, Errors, MetricRegistry } from "moleculer";
import { AuthMiddleware } from "./lib/app/auth.middleware";
import { ValidatorMiddleware } from "./lib/app/validator.middleware";
import type { AppConfig } from "./lib/config/config";
import { ScrapeReporter } from "./lib/metrics/scrape-reporter";
import { bridgeCommands } from "./lib/repl/bridge.command";
import { notificationsCommands } from "./lib/repl/notifications.command";
import { parkedCommands } from "./lib/repl/parked.command";
import { queueCommands } from "./lib/repl/queue.command";
import { replCommands } from "./lib/repl/projections.command";
import { usersCommands } from "./lib/repl/users.command";

/**
 * Every broker option in one place, derived from the validated configuration (never from
 * process.env directly). One process or many, the same options apply. `collectMetrics` reads
 * the gauges that are states (runner positions...) on each scrape; the app passes it.
 */
export function brokerConfig(config: AppConfig, collectMetrics: () => Promise<void> = async () => {}): BrokerOptions {
  return {
    namespace: config.namespace,
    nodeID: config.nodeId,
    // No transporter: every service in this process talks in-process (the quick start).
    transporter: config.transporter ? { type: "NATS", options: { url: config.transporter } } : null,
    logger: {
      type: "Console",
      options: {
        level: config.logLevel,
        formatter: config.logFormat === "json" ? "json" : "short",
        colors: config.logFormat !== "json",
      },
    },
    requestTimeout: 10_000,
    // Commands carry command ids, so a retry after a lost reply is answered, not re-executed.
    retryPolicy: {
      enabled: true,
      retries: 3,
      delay: 100,
      maxDelay: 1000,
      factor: 2,
      check: (err: Error) => !!(err as Errors.MoleculerRetryableError).retryable,
    },
    circuitBreaker: { enabled: false },
    registry: { strategy: "RoundRobin", preferLocal: true },
    // Lets in-flight requests finish on shutdown.
    tracking: { enabled: true, shutdownTimeout: config.shutdown.graceMs },
    // Moleculer's own SIGINT/SIGTERM handler exits as soon as the broker has stopped, before
    // the stores are closed; the binaries install ours instead (lib/app/shutdown.ts).
    skipProcessEventRegistration: true,
    // Parameters are validated by our ValidatorMiddleware instead: Moleculer's own would wrap
    // every user middleware, so it would validate before the auth middleware checks the role.
    validator: false,
    // Moleculer's own figures (requests per action, event loop, memory...) and ours
    // (lib/metrics/app-metrics.ts), on this process's own port: one per process in a cluster.
    metrics: config.metrics
      ? {
          enabled: true,
          // Moleculer takes a reporter instance as it is; its types only name the built-in ones.
          reporter: [
            new ScrapeReporter({ ...config.metrics, collect: collectMetrics }) as unknown as MetricRegistry.MetricsReporter,
          ],
        }
      : { enabled: false },
    tracing: { enabled: false },
    // The first wraps the handler innermost: Auth runs first, then Validator, then the handler.
    middlewares: [ValidatorMiddleware, AuthMiddleware],
    // Admin commands for `npm run repl` (see lib/repl).
    replOptions: {
      customCommands: [
        ...replCommands,
        ...bridgeCommands,
        ...parkedCommands,
        ...usersCommands,
        ...notificationsCommands,
        ...queueCommands,
      ],
      delimiter: "ticketing $ ",
    },
  };
}
