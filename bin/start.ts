import { startApp } from "../lib/app/app";
import { exitOnSignals } from "../lib/app/shutdown";
import { ConfigError } from "../lib/config/config";

async function main(): Promise<void> {
  const app = await startApp();
  const { config } = app;
  const lines = [
    "",
    `Ticketing platform is up (node ${app.broker.nodeID}; services: ${config.services.join(", ")})`,
    `  store:       ${config.store.kind === "mongo" ? "MongoDB" : `embedded, in ${config.store.dataDir}`}`,
    `  transporter: ${config.transporter ?? "none (all services in this process)"}`,
  ];
  if (app.apiUrl) {
    lines.push(`  REST API:    ${app.apiUrl}  (try ${app.apiUrl}/events and ${app.apiUrl}/ready)`);
    if (!config.http.publicUrl.includes(`:${config.http.port}`)) lines.push(`  public URL:  ${config.http.publicUrl}/api`);
    if (config.auth.mode === "dev") lines.push("  tokens:      npm run -s token -- --role organizer   (or --role admin)");
  }
  console.log(lines.join("\n") + "\n");

  exitOnSignals(app.stop, app.broker.logger);
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`configuration error: ${err.message}`);
    process.exit(2);
  }
  console.error("failed to start:", err);
  process.exit(1);
});
