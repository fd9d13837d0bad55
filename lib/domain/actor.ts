import type { Principal } from "../auth/principal";
import { DomainError } from "../eventlog/decider";

/** Who is acting, as the service copies it from the verified token into every command. */
export type Actor = Pick<Principal, "sub" | "roles" | "organizerId">;

/** What every catalogue command carries: the acting principal and the time of the request. */
export interface CommandBase {
  actor: Actor;
  /** Epoch milliseconds; deciders never read a clock. */
  at: number;
}

export function isAdmin(actor: Actor): boolean {
  return actor.roles.includes("admin");
}

export function forbidden(message: string): DomainError {
  return new DomainError("FORBIDDEN", message, 403);
}

/** The organizer an organizer-role actor works for; refuses everyone else. */
export function actingOrganizer(actor: Actor): string {
  if (!actor.roles.includes("organizer") || !actor.organizerId) {
    throw forbidden("only an organizer account or an admin may do this");
  }
  return actor.organizerId;
}

/** Lets admins and the owning organizer through; data without an owner is admin-only. */
export function requireOwner(actor: Actor, ownerOrganizerId: string | undefined, what: string): void {
  if (isAdmin(actor)) return;
  if (actingOrganizer(actor) !== ownerOrganizerId) throw forbidden(`${what} belongs to another organizer`);
}

export function requireAdmin(actor: Actor, what: string): void {
  if (!isAdmin(actor)) throw forbidden(`only an admin may ${what}`);
}

export function notFound(what: string, id: string): DomainError {
  return new DomainError("NOT_FOUND", `${what} ${id} does not exist`, 404, { id });
}

export function alreadyExists(what: string, id: string): DomainError {
  return new DomainError("ALREADY_EXISTS", `${what} ${id} already exists`, 409, { id });
}
