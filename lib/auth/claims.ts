import { randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import { AuthError } from "./errors";
import { isRole, type Principal, type Role } from "./principal";

export const DEFAULT_ORGANIZER_CLAIM = "organizer_id";

export interface ClaimMapping {
  /** Client whose `resource_access[clientId].roles` also count as roles. */
  clientId?: string;
  /** Claim carrying the organizer id (a Keycloak user-attribute mapper). */
  organizerClaim: string;
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function rolesIn(container: unknown): string[] {
  if (typeof container !== "object" || container === null) return [];
  const roles: unknown = Reflect.get(container, "roles");
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}

/** Keycloak puts realm roles and per-client roles in two places; both grant access. */
function rolesOf(payload: JWTPayload, clientId: string | undefined): Role[] {
  const realm = rolesIn(payload.realm_access);
  const resourceAccess = payload.resource_access;
  const client =
    clientId !== undefined && typeof resourceAccess === "object" && resourceAccess !== null
      ? rolesIn(Reflect.get(resourceAccess, clientId))
      : [];
  // Unknown roles (offline_access, uma_authorization...) mean nothing to this product.
  return [...new Set([...realm, ...client].filter(isRole))];
}

/** Builds the principal from an already verified claim set. */
export function principalFromClaims(payload: JWTPayload, mapping: ClaimMapping): Principal {
  const sub = stringClaim(payload, "sub");
  if (sub === undefined) throw new AuthError("TOKEN_MALFORMED", 'token "sub" claim must be a non-empty string');
  const principal: Principal = { sub, roles: rolesOf(payload, mapping.clientId) };
  const organizerId = stringClaim(payload, mapping.organizerClaim);
  const email = stringClaim(payload, "email");
  const name = stringClaim(payload, "name") ?? stringClaim(payload, "preferred_username");
  const clientId = stringClaim(payload, "azp");
  if (organizerId !== undefined) principal.organizerId = organizerId;
  if (email !== undefined) principal.email = email;
  if (name !== undefined) principal.name = name;
  if (clientId !== undefined) principal.clientId = clientId;
  return principal;
}

export interface AccessTokenInput {
  issuer: string;
  audience: string;
  /** Becomes `azp`, the client that asked for the token. */
  clientId: string;
  sub: string;
  roles: Role[];
  organizerId?: string;
  email?: string;
  name?: string;
  ttlSeconds: number;
}

/** The claim set of a Keycloak access token, so dev and test tokens exercise the real mapping. */
export function accessTokenClaims(input: AccessTokenInput): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: input.issuer,
    aud: input.audience,
    sub: input.sub,
    azp: input.clientId,
    typ: "Bearer",
    iat: now,
    exp: now + input.ttlSeconds,
    jti: randomUUID(),
    realm_access: { roles: [...input.roles] },
    preferred_username: input.name ?? input.sub,
  };
  if (input.organizerId !== undefined) claims[DEFAULT_ORGANIZER_CLAIM] = input.organizerId;
  if (input.email !== undefined) claims.email = input.email;
  return claims;
}
