import { DomainError } from "../eventlog/decider";
import { invalid } from "./validation";

/**
 * Where an imported organizer, event or order comes from: the partner (a ticketing provider we
 * consume, see the Kafka bridge) and its id there. Imported things are the partner's: our own
 * commands do not change them, only the partner's later messages do.
 */
export interface ExternalSource {
  partner: string;
  id: string;
}

/** Ids that stay usable in URLs (the gateway's id pattern) and stream names. */
const EXTERNAL_ID = /^[A-Za-z0-9_-]+$/;
const MAX_ID = 64;

/**
 * Our id of something a partner sent: `ext-<partner>-<its id>`. Deterministic, so the same
 * message always names the same organizer, event, order or ticket, and never one of ours.
 */
export function externalId(partner: string, value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw invalid(field, "is missing");
  if (!EXTERNAL_ID.test(value)) throw invalid(field, `"${value}" must be letters, digits, '_' or '-'`);
  const id = `ext-${partner}-${value}`;
  if (id.length > MAX_ID) throw invalid(field, `"${value}" is too long for an id (${id.length} > ${MAX_ID} characters)`);
  return id;
}

/** Our own commands may not change what a partner owns. */
export function importedElsewhere(what: string, id: string, source: ExternalSource): DomainError {
  return new DomainError("IMPORTED", `${what} ${id} is imported from partner ${source.partner}: it changes there`, 409, {
    id,
    partner: source.partner,
  });
}

/** An import may not overwrite something of ours, or another partner's, that happens to have the id. */
export function checkSameSource(what: string, id: string, current: ExternalSource | undefined, next: ExternalSource): void {
  if (!current || current.partner !== next.partner || current.id !== next.id) {
    throw new DomainError("NOT_IMPORTED", `${what} ${id} exists and is not ${next.partner}'s ${next.id}`, 409, { id });
  }
}

export const UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE";

/**
 * A message refers to something not imported (yet): messages of different topics arrive in no
 * particular order, so the bridge waits a little before it gives up on it.
 */
export function unknownReference(what: string, id: string): DomainError {
  return new DomainError(UNKNOWN_REFERENCE, `unknown ${what} ${id}`, 422, { what, id });
}
