import { spawn } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { decodeJwt } from "jose";
import { loadOrCreateDevIssuer } from "../../../lib/auth/dev-issuer";
import { createTokenVerifier } from "../../../lib/auth/verifier";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "node_modules/.bin");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dataDir: string;

/** Runs bin/token.ts as `npm run token` would: Node 24 from node_modules/.bin first on PATH. */
function runToken(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { OIDC_ISSUER, DEV_ISSUER, OIDC_AUDIENCE, PORT, ...inherited } = process.env;
  return new Promise((done, fail) => {
    const child = spawn(join(BIN, "tsx"), ["bin/token.ts", ...args], {
      cwd: ROOT,
      env: { ...inherited, PATH: `${BIN}:${process.env.PATH ?? ""}`, DATA_DIR: dataDir, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "token-cli-"));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("npm run token", () => {
  it("prints only a token that the verifier accepts with the dev issuer's keys", async () => {
    const run = await runToken([
      "--role",
      "organizer",
      "--role",
      "admin",
      "--organizer",
      "org-1",
      "--email",
      "ann@example.test",
      "--ttl",
      "120",
    ]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = run.stdout.trim();

    const issuer = await loadOrCreateDevIssuer({
      dataDir,
      issuer: "http://localhost:3000/dev-issuer",
      audience: "ticketing-api",
    });
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      keys: { type: "local", jwks: issuer.jwks },
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      roles: ["organizer", "admin"],
      organizerId: "org-1",
      email: "ann@example.test",
    });
    const { exp, iat } = decodeJwt(token);
    expect(Number(exp) - Number(iat)).toBe(120);
  });

  it("mints a checker scoped to an organizer and, with --event, to those events", async () => {
    const run = await runToken(["--role", "checker", "--organizer", "org-1", "--event", "gig-1", "--event", "gig-2"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(decodeJwt(run.stdout.trim())).toMatchObject({ organizer_id: "org-1", event_ids: ["gig-1", "gig-2"] });
  });

  it("takes issuer and audience from the environment", async () => {
    const run = await runToken(["--role", "customer", "--sub", "u-9"], {
      DEV_ISSUER: "http://api.example.test/dev-issuer",
      OIDC_AUDIENCE: "other-api",
    });
    expect(decodeJwt(run.stdout.trim())).toMatchObject({
      iss: "http://api.example.test/dev-issuer",
      aud: "other-api",
      sub: "u-9",
    });
  });

  it.each([
    ["an unknown role", ["--role", "superuser"], /unknown role "superuser".*customer, organizer, admin, checker/],
    ["an unknown flag", ["--role", "admin", "--roles", "x"], /--roles/],
    ["no role", [], /--role/],
    ["a bad lifetime", ["--role", "admin", "--ttl", "soon"], /--ttl/],
    ["a checker without an organizer", ["--role", "checker"], /checker token needs --organizer/],
    ["events for a token that is no checker", ["--role", "organizer", "--event", "gig-1"], /--event limits a checker/],
  ])("refuses %s with exit code 2 and prints no token", async (_, args, message) => {
    const run = await runToken(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });

  it("refuses to mint when a real OIDC issuer is configured, and says where tokens come from", async () => {
    const run = await runToken(["--role", "admin"], { OIDC_ISSUER: "https://sso.example.test/realms/ticketing" });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/OIDC_ISSUER.*Keycloak/s);
    await expect(access(join(dataDir, "dev-issuer"))).rejects.toThrow();
  });
});
