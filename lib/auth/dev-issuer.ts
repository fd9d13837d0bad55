import { join } from "node:path";
import { SignJWT, type JSONWebKeySet } from "jose";
import { accessTokenClaims } from "./claims";
import { loadOrCreateSigningKey } from "./dev-key-store";
import type { Role } from "./principal";

/** `azp` of dev tokens; Keycloak would put the front-end client here. */
const DEV_CLIENT_ID = "ticketing-dev";
const DEFAULT_DEV_TTL_SECONDS = 3600;

export interface DevIssuerSettings {
  /** The key lives in `<dataDir>/dev-issuer/keys.json`. */
  dataDir: string;
  issuer: string;
  audience: string;
}

export interface MintRequest {
  /** Default: `defaultSubject(roles)`. */
  sub?: string;
  roles: Role[];
  organizerId?: string;
  /** Events a checker is limited to. */
  eventIds?: string[];
  email?: string;
  name?: string;
  /** Default 3600. */
  ttlSeconds?: number;
}

export interface DevIssuer {
  issuer: string;
  audience: string;
  /** Public keys, for a verifier with `keys: { type: "local", jwks }` or to serve as JWKS. */
  jwks: JSONWebKeySet;
  /** Signs a Keycloak-shaped access token. */
  mint(request: MintRequest): Promise<string>;
}

/** Stable per role set, so that tokens minted one after another name the same user. */
export function defaultSubject(roles: Role[]): string {
  return `dev-${[...roles].sort().join("-") || "user"}`;
}

/**
 * The quick-start issuer, used when no OIDC issuer is configured: tokens are shaped like
 * Keycloak's and go through the same verifier, so nothing downstream has a dev-only path.
 */
export async function loadOrCreateDevIssuer(settings: DevIssuerSettings): Promise<DevIssuer> {
  const { issuer, audience } = settings;
  const key = await loadOrCreateSigningKey(join(settings.dataDir, "dev-issuer", "keys.json"));
  return {
    issuer,
    audience,
    jwks: { keys: [key.publicJwk] },
    async mint(request) {
      const ttlSeconds = request.ttlSeconds ?? DEFAULT_DEV_TTL_SECONDS;
      if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError("ttlSeconds must be a positive integer");
      const claims = accessTokenClaims({
        ...request,
        issuer,
        audience,
        clientId: DEV_CLIENT_ID,
        sub: request.sub ?? defaultSubject(request.roles),
        ttlSeconds,
      });
      return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
    },
  };
}
