/**
 * Mints an access token from the development issuer, for curl and the quick start:
 *   TOKEN=$(npm run -s token -- --role organizer --organizer org-1)
 * Only the token goes to stdout; everything else to stderr.
 */
import { parseArgs } from "node:util";
import { defaultSubject, loadOrCreateDevIssuer, type MintRequest } from "../lib/auth/dev-issuer";
import { loadConfig } from "../lib/config/config";
import { isRole, ROLES, type Role } from "../lib/auth/principal";

const USAGE = `usage: npm run -s token -- --role <${ROLES.join("|")}> [--role ...] [--sub <id>]
       [--organizer <id>] [--event <id> ...] [--email <address>] [--name <name>] [--ttl <seconds>]
An organizer token without --organizer gets the subject as its organizer id.
A checker token needs --organizer (whose tickets it admits); --event limits it to those events.`;

class UsageError extends Error {}

function parseTtl(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new UsageError(`--ttl must be a positive number of seconds, got "${raw}"`);
  return Number(raw);
}

function parseRoles(raw: string[] | undefined): Role[] {
  if (!raw || raw.length === 0) throw new UsageError("at least one --role is required");
  const unknown = raw.filter((role) => !isRole(role));
  if (unknown.length > 0) throw new UsageError(`unknown role "${unknown.join('", "')}"; known roles: ${ROLES.join(", ")}`);
  return raw.filter(isRole);
}

/** The API refuses a checker that names no organizer (see lib/auth/claims.ts): do not mint one. */
function parseCheckerScope(roles: Role[], organizerId: string | undefined, events: string[] | undefined): string[] | undefined {
  const checker = roles.includes("checker") && !roles.includes("admin");
  if (checker && organizerId === undefined) {
    throw new UsageError("a checker token needs --organizer <id>: the organizer whose tickets it admits");
  }
  if (events === undefined) return undefined;
  if (!roles.includes("checker")) throw new UsageError("--event limits a checker: add --role checker");
  const empty = events.filter((id) => id.trim() === "");
  if (empty.length > 0) throw new UsageError("--event needs an event id");
  return events;
}

const FLAGS = {
  role: { type: "string", multiple: true },
  sub: { type: "string" },
  organizer: { type: "string" },
  event: { type: "string", multiple: true },
  email: { type: "string" },
  name: { type: "string" },
  ttl: { type: "string" },
} as const;

function readFlags(args: string[]) {
  try {
    return parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function parseRequest(args: string[]): MintRequest {
  const flags = readFlags(args);
  const roles = parseRoles(flags.role);
  const sub = flags.sub ?? defaultSubject(roles);
  // Organizer endpoints need an organizer id; this keeps the one-flag quick start usable.
  const organizerId = flags.organizer ?? (roles.includes("organizer") ? sub : undefined);
  const eventIds = parseCheckerScope(roles, organizerId, flags.event);
  return { roles, sub, organizerId, eventIds, email: flags.email, name: flags.name, ttlSeconds: parseTtl(flags.ttl) };
}

async function main(): Promise<number> {
  // The same settings the server reads, so both agree on the issuer.
  const { auth } = loadConfig(process.env);
  if (auth.mode !== "dev") {
    process.stderr.write(
      `OIDC_ISSUER is set (${auth.issuer}): the API trusts that issuer (Keycloak), not the dev issuer.\n` +
        "Get a token from its token endpoint instead, e.g. POST {issuer}/protocol/openid-connect/token.\n",
    );
    return 1;
  }
  let request: MintRequest;
  try {
    request = parseRequest(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`token: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  const issuer = await loadOrCreateDevIssuer({ dataDir: auth.dataDir, issuer: auth.issuer, audience: auth.audience });
  process.stdout.write((await issuer.mint(request)) + "\n");
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
