import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Role } from "../../lib/auth/principal";
import { devIssuerOf, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";

const run = promisify(execFile);
const SCRIPT = join(__dirname, "../../scripts/fuzz/schemathesis.sh");
/**
 * Examples per operation: the admin's run adds the coverage phase (~2,500 requests whatever
 * this says), so it gets fewer. The whole run stays near a minute on a busy 2-core machine.
 */
const MAX_EXAMPLES = { admin: "3", others: "5" };

/**
 * Schemathesis against a quick start in its own process, for every operation of the API
 * document, as an anonymous caller and with a token of every role: no 5xx, no answer its
 * document does not allow (status, body, content type), no crash.
 */
describe("property-based fuzz of the API document (Schemathesis)", () => {
  let qs: QuickStartProcess;

  beforeAll(async () => {
    // The per-client rate limit would answer most of the fuzz with 429 (documented, but it tests nothing).
    qs = await startQuickStartProcess("openapi-fuzz", { RATE_LIMIT_PER_MINUTE: "0" });
  }, 90_000);
  afterAll(async () => qs?.stop());

  it("finds nothing for any caller", async () => {
    const issuer = await devIssuerOf(qs.env);
    const callers: Array<{ name: string; token?: string }> = [{ name: "anonymous" }];
    const claims: Record<Role, { organizerId?: string }> = {
      customer: {},
      organizer: { organizerId: "org-1" },
      checker: { organizerId: "org-1" },
      admin: {},
    };
    for (const [role, extra] of Object.entries(claims) as Array<[Role, { organizerId?: string }]>) {
      callers.push({ name: role, token: await issuer.mint({ sub: `fuzz-${role}`, roles: [role], ...extra }) });
    }
    const base = qs.apiUrl.replace(/\/api$/, "");
    const counts: string[] = [];
    for (const caller of callers) {
      // The admin may do everything: its run also tries each parameter's boundaries (coverage,
      // ~2,400 requests whatever the examples) and follows links between operations (stateful);
      // the other callers meet the role checks with examples and random data.
      const phases = caller.name === "admin" ? "examples,coverage,fuzzing,stateful" : "examples,fuzzing";
      const examples = caller.name === "admin" ? MAX_EXAMPLES.admin : MAX_EXAMPLES.others;
      const result = await run(SCRIPT, [base, "--max-examples", examples, "--phases", phases, "--seed", "1"], {
        env: { ...process.env, FUZZ_TOKEN: caller.token ?? "" },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 240_000,
      }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`schemathesis found problems as ${caller.name}:\n${err.stdout ?? ""}\n${err.stderr ?? err.message}`);
      });
      const tested = /Tested: (\d+)/.exec(result.stdout)?.[1];
      const generated = /(\d+) generated, (\d+) passed/.exec(result.stdout);
      counts.push(
        `${caller.name} (max ${examples} examples): ${tested} operations, ${generated?.[1]} requests, ${generated?.[2]} passed, 0 failures`,
      );
      expect(qs.alive()).toBe(true);
    }
    console.log(`schemathesis:\n${counts.join("\n")}`);
    expect(counts).toHaveLength(callers.length);
  }, 600_000);
});
