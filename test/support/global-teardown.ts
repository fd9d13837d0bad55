/**
 * jest globalTeardown: stops the test servers only if global-setup.ts started them in
 * this jest run; servers a developer or CI started are left alone.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { STARTED_ENV } from "./global-setup";
import { REPO_ROOT } from "./infra";

export default async function globalTeardown(): Promise<void> {
  const started = process.env[STARTED_ENV];
  if (!started) return;
  delete process.env[STARTED_ENV];
  spawnSync("bash", [path.join(REPO_ROOT, "scripts", "infra", "down.sh"), started], { stdio: "inherit" });
}
