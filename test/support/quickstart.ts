import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevIssuer, type DevIssuer } from "../../lib/auth/dev-issuer";
import { startNode, stopNode, tail, type ClusterNode } from "./cluster";
import { freePort } from "./free-port";

/** The environment of a quick-start process for tests: its own data directory, any free port. */
export function quickStartEnv(
  name: string,
  extra: Record<string, string> = {},
): Record<string, string> & { DATA_DIR: string; DEV_ISSUER: string } {
  return {
    DATA_DIR: mkdtempSync(join(tmpdir(), `${name}-`)),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    RUNNER_POLL_MS: "50",
    // Any free port: PORT+1, the default, may be taken by another test's server.
    YOOKASSA_SIMULATOR_PORT: "0",
    ...extra,
  };
}

/** The development issuer of that process, to mint the tokens a test needs. */
export function devIssuerOf(env: { DATA_DIR: string; DEV_ISSUER: string }): Promise<DevIssuer> {
  return loadOrCreateDevIssuer({ dataDir: env.DATA_DIR, issuer: env.DEV_ISSUER, audience: "ticketing-api" });
}

/** A quick start in its own Node process (bin/start.ts), so a test can see whether a request kills it. */
export interface QuickStartProcess {
  node: ClusterNode;
  apiUrl: string;
  env: Record<string, string> & { DATA_DIR: string; DEV_ISSUER: string };
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

export async function startQuickStartProcess(name: string, extra: Record<string, string> = {}): Promise<QuickStartProcess> {
  const port = await freePort();
  const env = quickStartEnv(name, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...extra });
  const node = startNode(name, env);
  // `extra` may name the port, e.g. to restart on the same one.
  const apiUrl = `http://127.0.0.1:${env.PORT}/api`;
  const alive = () => node.process.exitCode === null && node.process.signalCode === null;
  const deadline = Date.now() + 60_000;
  // Ready, not only healthy: the gateway answers /health before the other services have started.
  while (
    !(await fetch(`${apiUrl}/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (!alive() || Date.now() > deadline) {
      await stopNode(node);
      throw new Error(`the quick start was not ready within 60 s\n${tail(node)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { node, apiUrl, env, alive, stop: () => stopNode(node) };
}
