import { AuthError } from "./errors";

export const ROLES = ["customer", "organizer", "admin", "checker"] as const;

export type Role = (typeof ROLES)[number];

/** Who is calling, as established from a verified access token. */
export interface Principal {
  sub: string;
  roles: Role[];
  /** The organizer this user acts for; set by the issuer, never by the caller. */
  organizerId?: string;
  /** The only events a checker admits tickets of; absent = every event of its organizer. */
  eventIds?: string[];
  email?: string;
  name?: string;
  /** The OAuth client that obtained the token (`azp`). */
  clientId?: string;
  /**
   * Roles the token names but that are not granted, each with the reason (e.g. a checker
   * without an organizer): a refused call says what the token lacks.
   */
  withheld?: Partial<Record<Role, string>>;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** True when the principal holds at least one of the roles. */
export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}

/** Why one of these roles the token names is not granted, if that is why the principal holds none. */
export function withheldReason(principal: Principal, roles: readonly Role[]): string | undefined {
  return roles.map((role) => principal.withheld?.[role]).find((reason) => reason !== undefined);
}

/** Throws 403 FORBIDDEN unless the principal holds at least one of the roles. */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (hasRole(principal, ...roles)) return;
  throw new AuthError("FORBIDDEN", withheldReason(principal, roles) ?? `requires one of the roles: ${roles.join(", ")}`);
}

/**
 * Whether the caller may admit a ticket at the door: an admin any ticket; a checker only
 * those of its own organizer, and of its listed events when its token lists some.
 */
export function admitsAtDoor(principal: Principal, ticket: { organizerId?: string; eventId: string }): boolean {
  if (hasRole(principal, "admin")) return true;
  if (!hasRole(principal, "checker") || !principal.organizerId) return false;
  if (principal.organizerId !== ticket.organizerId) return false;
  return principal.eventIds === undefined || principal.eventIds.includes(ticket.eventId);
}

/** Keycloak names a client's service account `service-account-<client id>`. */
const SERVICE_ACCOUNT = /^service-account-/;

/**
 * Whether the caller is a person, who gets a profile: not a door scanner (checker only) nor a
 * client acting for itself (a service account of the issuer).
 */
export function isPerson(principal: Principal): boolean {
  if (principal.roles.length > 0 && principal.roles.every((role) => role === "checker")) return false;
  return !SERVICE_ACCOUNT.test(principal.name ?? "");
}
