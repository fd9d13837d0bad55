import { ServiceBroker } from "moleculer";
import { hostname } from "node:os";
import { brokerConfig } from "../moleculer.config";
import { startApp } from "../lib/app/app";
import { ConfigError, loadConfig } from "../lib/config/config";

/**
 * With TRANSPORTER set: joins the running cluster as a node without services and opens the
 * admin REPL. Without: starts the quick start in this process and opens the REPL on it.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.transporter) {
    const broker = new ServiceBroker({
      ...brokerConfig({ ...config, nodeId: `repl-${hostname()}-${process.pid}` }),
      logger: { type: "Console", options: { level: "warn" } },
    });
    await broker.start();
    await broker.repl();
    return;
  }
  const app = await startApp();
  await app.broker.repl();
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
