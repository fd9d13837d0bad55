/**
 * jest globalSetup: makes sure the real test servers (scripts/infra/up.sh) are up before
 * any suite runs. If they already answer (a developer ran `npm run infra:up`, or CI did)
 * nothing is started and nothing will be stopped; otherwise up.sh starts what is missing
 * and global-teardown.ts stops exactly that afterwards.
 *
 * Set INFRA_SKIP=1 to skip this (e.g. when the settings point at servers elsewhere).
 * A run restricted to test/unit does not need the servers and skips it too.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./infra";

/** Names the servers this jest process started, for the teardown (same process). */
export const STARTED_ENV = "INFRA_STARTED_BY_JEST";

interface GlobalConfigLike {
  testPathPatterns?: { patterns?: readonly string[] };
}

function onlyUnitTests(config: GlobalConfigLike): boolean {
  const patterns = config.testPathPatterns?.patterns ?? [];
  return patterns.length > 0 && patterns.every((p) => /(^|[/\\])test[/\\]unit([/\\]|$)/.test(p));
}

export default async function globalSetup(config: GlobalConfigLike = {}): Promise<void> {
  if (process.env.INFRA_SKIP === "1" || onlyUnitTests(config)) return;

  const upScript = path.join(REPO_ROOT, "scripts", "infra", "up.sh");
  const check = spawnSync("bash", [upScript, "--check"], { stdio: "ignore" });
  if (check.status === 0) return;

  const startedFile = path.join(os.tmpdir(), `infra-started-by-jest-${process.pid}`);
  fs.rmSync(startedFile, { force: true });
  process.stdout.write("\n[infra] test servers not running; starting them (scripts/infra/up.sh)\n");
  const up = spawnSync("bash", [upScript], {
    stdio: "inherit",
    env: { ...process.env, INFRA_STARTED_FILE: startedFile },
  });

  let started: string[] = [];
  try {
    started = fs.readFileSync(startedFile, "utf8").split("\n").filter(Boolean);
    fs.rmSync(startedFile, { force: true });
  } catch {
    // up.sh writes the file only when it started something and succeeded.
  }
  if (started.length > 0) process.env[STARTED_ENV] = started.join(",");

  if (up.status !== 0) {
    throw new Error(
      `scripts/infra/up.sh failed (${up.error?.message ?? `exit ${up.status ?? up.signal}`}); ` +
        `see its output above. \`npm run infra:down\` resets the servers.`,
    );
  }
}
