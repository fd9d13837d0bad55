import { randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import { AuthError } from "./errors";
import { isRole, type Principal, type Role } from "./principal";

export const DEFAULT_ORGANIZER_CLAIM = "organizer_id";
export const DEFAULT_EVENTS_CLAIM = "event_ids";

export interface ClaimMapping {
  /** Client whose `resource_access[clientId].roles` also count as roles. */
  clientId?: string;
  /** Claim carrying the organizer id (a Keycloak user-attribute mapper). */
  organizerClaim: string;
  /** Claim listing the events a checker may admit (a multivalued user-attribute mapper). */
  eventsClaim: string;
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * A list of ids. A single string counts as a list of one (issuers flatten one-element lists);
 * anything else is refused rather than read as "no restriction".
 */
function listClaim(payload: JWTPayload, name: string): string[] | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (!list.every((item): item is string => typeof item === "string" && item !== "")) {
    throw new AuthError("TOKEN_MALFORMED", `token "${name}" claim must be a list of non-empty strings`);
  }
  return [...new Set(list as string[])];
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
  const eventIds = listClaim(payload, mapping.eventsClaim);
  const email = stringClaim(payload, "email");
  const name = stringClaim(payload, "name") ?? stringClaim(payload, "preferred_username");
  const clientId = stringClaim(payload, "azp");
  if (organizerId !== undefined) principal.organizerId = organizerId;
  if (eventIds !== undefined) principal.eventIds = eventIds;
  withholdUnscopedChecker(principal, mapping);
  if (email !== undefined) principal.email = email;
  if (name !== undefined) principal.name = name;
  if (clientId !== undefined) principal.clientId = clientId;
  return principal;
}

/**
 * A checker admits the tickets of one organizer: without that claim the role would admit
 * every organizer's, so it is not granted (an admin admits any ticket anyway).
 */
function withholdUnscopedChecker(principal: Principal, mapping: ClaimMapping): void {
  if (!principal.roles.includes("checker") || principal.organizerId !== undefined || principal.roles.includes("admin")) return;
  principal.roles = principal.roles.filter((role) => role !== "checker");
  principal.withheld = {
    checker: `the checker role needs the token claim "${mapping.organizerClaim}" (the organizer whose tickets it admits); this token has none`,
  };
}

export interface AccessTokenInput {
  issuer: string;
  audience: string;
  /** Becomes `azp`, the client that asked for the token. */
  clientId: string;
  sub: string;
  roles: Role[];
  organizerId?: string;
  /** Events a checker is limited to. */
  eventIds?: string[];
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
  if (input.eventIds !== undefined) claims[DEFAULT_EVENTS_CLAIM] = [...input.eventIds];
  if (input.email !== undefined) claims.email = input.email;
  return claims;
}
