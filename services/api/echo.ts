/**
 * Error answers never repeat what the client sent. Validation errors are built without the
 * value (lib/app/validator.middleware.ts), but any service may phrase a refusal around a
 * value it was given; the gateway, the one place every answer passes, takes such text out.
 */

/** Shorter strings are words the API's own messages use ("concert", "RUB"), not echoes worth hiding. */
const MIN_ECHO_LENGTH = 8;
/** A body has at most 256 KB, so this bounds the work, not what is checked in a real request. */
const MAX_SENT_STRINGS = 2000;
/** Error data deeper than this is not something a client needs: it is dropped. */
const MAX_DATA_DEPTH = 4;
const REDACTED = "…";

/** The string values of a request's body and query, longest first (so a longer echo is cut whole). */
export function sentStrings(...parts: unknown[]): string[] {
  const found = new Set<string>();
  const stack = [...parts];
  let visited = 0;
  while (stack.length && found.size < MAX_SENT_STRINGS && visited++ < 50_000) {
    const value = stack.pop();
    if (typeof value === "string") {
      if (value.length >= MIN_ECHO_LENGTH) found.add(value);
    } else if (typeof value === "object" && value !== null) {
      for (const key of Object.keys(value)) stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function redactText(text: string, sent: readonly string[]): string {
  let out = text;
  for (const s of sent) if (out.includes(s)) out = out.split(s).join(REDACTED);
  // A value cut short before it was quoted (e.g. its first 64 characters) is still an echo.
  for (const s of sent) {
    const head = s.slice(0, MIN_ECHO_LENGTH * 2);
    if (head.length >= MIN_ECHO_LENGTH && out.includes(head)) out = out.split(head).join(REDACTED);
  }
  return out;
}

/**
 * A copy of an error's data (or message) without anything the client sent, without the
 * names of nodes and internal actions, and without depth a client has no use for.
 */
export function redactEchoes(value: unknown, sent: readonly string[], depth = 0): unknown {
  if (typeof value === "string") return redactText(value, sent);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DATA_DEPTH) return undefined;
  if (Array.isArray(value)) return value.map((v) => redactEchoes(v, sent, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "nodeID" || key === "action" || key === "__proto__") continue;
    out[key] = redactEchoes(v, sent, depth + 1);
  }
  return out;
}
