import type { Actor } from "../../../lib/domain/actor";
import { DomainError, type Decider } from "../../../lib/eventlog/decider";
import type { NewEvent } from "../../../lib/eventlog/types";

export const admin: Actor = { sub: "admin-1", roles: ["admin"] };
export const organizerA: Actor = { sub: "user-a", roles: ["organizer"], organizerId: "org-a" };
export const organizerB: Actor = { sub: "user-b", roles: ["organizer"], organizerId: "org-b" };
export const customer: Actor = { sub: "user-c", roles: ["customer"] };
/** A system job (geocoding, music sync) acts with the admin role. */
export const system: Actor = { sub: "system", roles: ["admin"] };

/** "Now" in the tests: 1 January 2030, 12:00 UTC. */
export const NOW = Date.UTC(2030, 0, 1, 12);
export const DAY = 24 * 60 * 60 * 1000;

/** The state after these events, as the command handler would fold it. */
export function given<C, E extends NewEvent, S>(decider: Decider<C, E, S>, events: E[]): S {
  return events.reduce(decider.evolve, decider.initialState());
}

/** Decides on top of a history and returns the new events. */
export function when<C, E extends NewEvent, S>(decider: Decider<C, E, S>, history: E[], command: C): E[] {
  return decider.decide(command, given(decider, history));
}

/** The DomainError the call throws (fails the test when it throws nothing or something else). */
export function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a DomainError, but the command was accepted");
}
