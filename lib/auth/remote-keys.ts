import { createRemoteJWKSet, errors, type JWTVerifyGetKey, type RemoteJWKSet } from "jose";
import { AuthError } from "./errors";

/** Anything with a `warn`, such as Moleculer's logger. */
export interface AuthLogger {
  warn(...args: unknown[]): void;
}

export interface RemoteKeyOptions {
  /** Skip OIDC discovery and fetch keys from here. */
  jwksUri?: string;
  /** Per HTTP request (discovery or JWKS). Default 5000. */
  timeoutMs?: number;
  /** Minimum time between JWKS refetches caused by an unknown `kid`. Default 30000. */
  cooldownMs?: number;
  /** Keys older than this are refetched, so removed keys stop being trusted. Default 600000. */
  cacheMaxAgeMs?: number;
  /** After a failed fetch, answer ISSUER_UNAVAILABLE without asking again for this long. Default 1000. */
  retryAfterMs?: number;
}

const DISCOVERY_PATH = "/.well-known/openid-configuration";

async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const url = issuer.replace(/\/$/, "") + DISCOVERY_PATH;
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    // A redirect means the configured issuer is not the real one; jose refuses them too.
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`discovery ${url} answered HTTP ${response.status}`);
  const doc: unknown = await response.json();
  const claimedIssuer: unknown = typeof doc === "object" && doc !== null ? Reflect.get(doc, "issuer") : undefined;
  const jwksUri: unknown = typeof doc === "object" && doc !== null ? Reflect.get(doc, "jwks_uri") : undefined;
  // OIDC Discovery 1.0 §4.3: a document naming another issuer must not be used.
  if (claimedIssuer !== issuer) throw new Error(`discovery ${url} names issuer ${String(claimedIssuer)}`);
  if (typeof jwksUri !== "string") throw new Error(`discovery ${url} has no jwks_uri`);
  return new URL(jwksUri);
}

function messageOf(err: unknown): string {
  return typeof err === "object" && err !== null && "message" in err ? String(err.message) : String(err);
}

/** fetch() reports "fetch failed" and hides the useful part (ECONNREFUSED...) in `cause`. */
function describe(err: unknown): string {
  const cause = typeof err === "object" && err !== null && "cause" in err ? err.cause : undefined;
  return cause === undefined ? messageOf(err) : `${messageOf(err)}: ${messageOf(cause)}`;
}

/**
 * Key resolver for jwtVerify backed by the issuer's JWKS over HTTP. Discovery happens on
 * the first token, not at start-up, so the service boots while the issuer is still down;
 * failures become ISSUER_UNAVAILABLE and are retried, at most once per `retryAfterMs`.
 */
export function createRemoteKeyResolver(issuer: string, options: RemoteKeyOptions, logger?: AuthLogger): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  // Parsed now so that a mistyped setting stops start-up instead of failing every request.
  const explicitJwksUri = options.jwksUri === undefined ? undefined : new URL(options.jwksUri);
  let keySet: RemoteJWKSet | undefined;
  let discovering: Promise<RemoteJWKSet> | undefined;
  let retryAt = 0;

  const getKeySet = async (): Promise<RemoteJWKSet> => {
    if (keySet) return keySet;
    discovering ??= (explicitJwksUri ? Promise.resolve(explicitJwksUri) : discoverJwksUri(issuer, timeoutMs))
      .then((jwksUri) => {
        keySet = createRemoteJWKSet(jwksUri, {
          timeoutDuration: timeoutMs,
          cooldownDuration: options.cooldownMs,
          cacheMaxAge: options.cacheMaxAgeMs,
        });
        return keySet;
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  };

  return async (header, token) => {
    // Cached keys stay usable while the issuer is down; only without them do we back off.
    if (Date.now() < retryAt && !keySet?.fresh) {
      throw new AuthError("ISSUER_UNAVAILABLE", "the token issuer is unreachable; retry shortly");
    }
    try {
      return await (
        await getKeySet()
      )(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      retryAt = Date.now() + retryAfterMs;
      logger?.warn("Token issuer unavailable", { issuer, error: describe(err) });
      throw new AuthError("ISSUER_UNAVAILABLE", "the token issuer is unreachable; retry shortly");
    }
  };
}
