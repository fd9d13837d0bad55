import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevIssuer, type DevIssuer } from "../../lib/auth/dev-issuer";

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
    ...extra,
  };
}

/** The development issuer of that process, to mint the tokens a test needs. */
export function devIssuerOf(env: { DATA_DIR: string; DEV_ISSUER: string }): Promise<DevIssuer> {
  return loadOrCreateDevIssuer({ dataDir: env.DATA_DIR, issuer: env.DEV_ISSUER, audience: "ticketing-api" });
}
