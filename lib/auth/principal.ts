import { AuthError } from "./errors";

export const ROLES = ["customer", "organizer", "admin", "checker"] as const;

export type Role = (typeof ROLES)[number];

/** Who is calling, as established from a verified access token. */
export interface Principal {
  sub: string;
  roles: Role[];
  /** The organizer this user acts for; set by the issuer, never by the caller. */
  organizerId?: string;
  email?: string;
  name?: string;
  /** The OAuth client that obtained the token (`azp`). */
  clientId?: string;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** True when the principal holds at least one of the roles. */
export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}

/** Throws 403 FORBIDDEN unless the principal holds at least one of the roles. */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (!hasRole(principal, ...roles)) {
    throw new AuthError("FORBIDDEN", `requires one of the roles: ${roles.join(", ")}`);
  }
}
