import { invalid, text } from "./validation";

/**
 * Ids arrive in commands (the caller chooses them, so a retried create is recognisable). They
 * end up inside stream ids, commit ids (`stream:seq`) and seat ids (`section:row:seat`), so
 * they may not contain a colon or spaces.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function id(value: unknown, field: string): string {
  if (typeof value !== "string" || !ID.test(value)) {
    throw invalid(field, "must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit");
  }
  return value;
}

/** A human label that becomes part of an id (row "12", seat "5A"): anything but a colon. */
export function label(value: unknown, field: string, max = 32): string {
  const trimmed = text(value, field, { max });
  if (trimmed.includes(":")) throw invalid(field, "must not contain ':'");
  return trimmed;
}
