import {
  createLocalJWKSet,
  jwtVerify,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSAlgorithm,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
} from "jose";
import { DEFAULT_EVENTS_CLAIM, DEFAULT_ORGANIZER_CLAIM, principalFromClaims, type ClaimMapping } from "./claims";
import { AuthError, toAuthError } from "./errors";
import type { Principal } from "./principal";
import { createRemoteKeyResolver, type AuthLogger, type RemoteKeyOptions } from "./remote-keys";
import { VerifiedTokens } from "./verified-tokens";

export { AuthError, type AuthReason, type AuthStatus } from "./errors";
export type { AuthLogger, RemoteKeyOptions } from "./remote-keys";

/** Where the issuer's public keys come from. */
export type KeySource =
  /** Keycloak or any OIDC provider: JWKS found by discovery (or `jwksUri`) and cached. */
  | ({ type: "remote" } & RemoteKeyOptions)
  /** The in-process development issuer: its public JWKS is known up front. */
  | { type: "local"; jwks: JSONWebKeySet };

export interface TokenVerifierOptions {
  /** Exact `iss` expected, e.g. `https://sso.example.com/realms/ticketing`. */
  issuer: string;
  /** At least one of these must be in `aud`. */
  audience: string | string[];
  keys: KeySource;
  /** Default `["RS256"]`, Keycloak's default. Symmetric algorithms are refused. */
  algorithms?: JWSAlgorithm[];
  /** Seconds of clock skew tolerated on `exp`/`nbf`. Default 5. */
  clockToleranceSec?: number;
  /** Client whose `resource_access` roles count. Default: the audience (when it is one string). */
  clientId?: string;
  /** Default `organizer_id`. */
  organizerClaim?: string;
  /** Default `event_ids`. */
  eventsClaim?: string;
  logger?: AuthLogger;
  /** Tokens kept verified (default 10,000; 0 turns the cache off). */
  cacheSize?: number;
  /** Longest a verified token is taken without checking its signature again. Default 60. */
  cacheMaxAgeSec?: number;
}

export interface TokenVerifier {
  /** Resolves to the caller, or rejects with an AuthError. */
  verify(token: string): Promise<Principal>;
}

// Keycloak marks access tokens `typ: "Bearer"` and ID tokens `typ: "ID"`; an ID token may
// carry our audience (its `aud` is the client id), so it must not pass as an access token.
const ACCESS_TOKEN_TYPE = "Bearer";

function checkAlgorithms(algorithms: JWSAlgorithm[]): JWSAlgorithm[] {
  if (algorithms.length === 0) throw new TypeError("algorithms must not be empty");
  // With a shared-secret algorithm allowed, a public key could be used as the HMAC secret.
  const symmetric = algorithms.filter((alg) => alg.startsWith("HS"));
  if (symmetric.length > 0) throw new TypeError(`symmetric algorithms are not allowed: ${symmetric.join(", ")}`);
  return algorithms;
}

function keyResolver(opts: TokenVerifierOptions): JWTVerifyGetKey {
  const source = opts.keys;
  if (source.type === "local") return createLocalJWKSet(source.jwks);
  return createRemoteKeyResolver(opts.issuer, source, opts.logger);
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const algorithms = checkAlgorithms(opts.algorithms ?? ["RS256"]);
  const getKey = keyResolver(opts);
  const mapping: ClaimMapping = {
    clientId: opts.clientId ?? (typeof opts.audience === "string" ? opts.audience : undefined),
    organizerClaim: opts.organizerClaim ?? DEFAULT_ORGANIZER_CLAIM,
    eventsClaim: opts.eventsClaim ?? DEFAULT_EVENTS_CLAIM,
  };
  const verifyOptions = {
    issuer: opts.issuer,
    audience: opts.audience,
    algorithms,
    clockTolerance: opts.clockToleranceSec ?? 5,
    requiredClaims: ["exp", "sub"],
  };

  const verified = new VerifiedTokens<unknown>(opts.cacheSize ?? 10_000, opts.cacheMaxAgeSec ?? 60);

  return {
    async verify(token) {
      if (!token) throw new AuthError("TOKEN_MISSING", "no access token was sent");
      const now = Date.now() / 1000;
      const known = verified.get(token, now);
      if (known) {
        // No signature check, but the key set is asked as for a new token: a withdrawn key, or
        // keys too old to trust with the issuer down, end the entry just the same.
        const key = await Promise.resolve(getKey(known.header as JWTHeaderParameters, flattened(token))).catch((err: unknown) => {
          verified.forget(token);
          throw toAuthError(err);
        });
        if (key === known.key) return known.principal;
        verified.forget(token);
      }
      let key: unknown;
      const { payload, protectedHeader } = await jwtVerify(
        token,
        async (header: JWTHeaderParameters, input: FlattenedJWSInput) => (key = await getKey(header, input)),
        verifyOptions,
      ).catch((err: unknown) => {
        throw toAuthError(err);
      });
      if (payload.typ !== undefined && payload.typ !== ACCESS_TOKEN_TYPE) {
        throw new AuthError("TOKEN_WRONG_TYPE", "token is not an access token");
      }
      const principal = principalFromClaims(payload, mapping);
      // jwtVerify required `exp`; the tolerance it allowed past it is not extended here.
      verified.set(token, { principal, key, header: protectedHeader }, payload.exp!, now);
      return principal;
    },
  };
}

/** The token's three parts, as a key resolver is given them. */
function flattened(token: string): FlattenedJWSInput {
  const [header, payload, signature] = token.split(".");
  return { protected: header, payload, signature };
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Extracts the token from an `Authorization` header value. */
export function parseBearer(header: string | undefined): string {
  if (header === undefined || header.trim() === "") {
    throw new AuthError("TOKEN_MISSING", "no Authorization header; send `Authorization: Bearer <token>`");
  }
  const match = BEARER.exec(header);
  if (!match) throw new AuthError("TOKEN_MALFORMED", "Authorization header must be `Bearer <token>`");
  return match[1];
}
