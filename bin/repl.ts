import { ServiceBroker } from "moleculer";
import { hostname } from "node:os";
import { brokerConfig } from "../moleculer.config";
import { startApp } from "../lib/app/app";
import { exitOnSignals } from "../lib/app/shutdown";
import { ConfigError, loadConfig } from "../lib/config/config";

/**
 * With TRANSPORTER set: joins the running cluster as a node without services and opens the
 * admin REPL. Without: starts the quick start in this process and opens the REPL on it.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.transporter) {
    const broker = new ServiceBroker({
      // An admin console, not a node to scrape: METRICS_PORT belongs to the node beside it.
      ...brokerConfig({ ...config, metrics: undefined, nodeId: `repl-${hostname()}-${process.pid}` }),
      logger: { type: "Console", options: { level: "warn" } },
    });
    await broker.start();
    exitOnSignals(() => broker.stop(), broker.logger);
    await broker.repl();
    return;
  }
  // `quit` and Ctrl+D stop the broker, which closes the stack's stores too (lib/app/app.ts).
  const app = await startApp();
  exitOnSignals(app.stop, app.broker.logger);
  await app.broker.repl();
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
