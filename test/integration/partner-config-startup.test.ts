/**
 * A bad partner configuration stops start-up the way every configuration error does: exit code 2
 * and one line naming the partner and the field. The real entry point in its own process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("start-up with a partner's CA file missing: exit 2 and one line naming the partner and the field, no ENOENT stack", () => {
  const dir = mkdtempSync(join(tmpdir(), "ca-start-"));
  const missing = join(dir, "vibe-ca.pem");
  const file = join(dir, "partners.json");
  writeFileSync(
    file,
    JSON.stringify({
      partners: [{ id: "vibe", connection: { brokers: ["k:1"], security: "SSL", caFile: missing }, topics: { events: "e" } }],
    }),
  );
  const root = join(__dirname, "..", "..");
  const run = spawnSync(join(root, "node_modules/.bin/node"), ["--import", "tsx", "bin/start.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATA_DIR: dir, KAFKA_PARTNERS_FILE: file },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.status).toBe(2);
  expect(run.stderr.trim()).toBe(
    `configuration error: KAFKA_PARTNERS_FILE ${file}: partner vibe.connection.caFile "${missing}" does not exist`,
  );
  expect(run.stderr).not.toMatch(/ENOENT|\n\s+at /);
}, 60_000);
