import { createHash, randomUUID } from "node:crypto";
import type { Actor } from "../domain/actor";
import type { AppContext } from "./context";
import { unauthorized } from "./errors";

/** The verified caller as the deciders see it. */
export function actorOf(ctx: AppContext): Actor {
  const user = ctx.meta.user;
  if (!user) throw unauthorized();
  return { sub: user.sub, roles: user.roles, organizerId: user.organizerId };
}

/** Marks the reply as a creation: 201 with the new resource's location. */
export function created<T>(ctx: AppContext, location: string, body: T): T {
  ctx.meta.$statusCode = 201;
  ctx.meta.$location = location;
  return body;
}

/** Ids in URLs and bodies: short, URL-safe, no surprises in logs or stream names. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const idParam = {
  type: "string",
  // As text: a RegExp does not cross the transporter, and the API document (lib/http/openapi.ts) reads remote params.
  pattern: ID_PATTERN.source,
  messages: { stringPattern: "'{field}' must be 1-64 letters, digits, '_' or '-'" },
};
export const optionalId = { ...idParam, optional: true };

/**
 * The id of something a request creates, derived from the request's command id: a retry of
 * the same request (same Idempotency-Key, or a Moleculer retry) names the same resource, so
 * it is recognised instead of creating a twin. Without a key the command id is random.
 */
export function newId(ctx: Pick<AppContext, "meta">, kind: string): string {
  if (!ctx.meta.commandId) return randomUUID();
  const hex = createHash("sha256").update(`${ctx.meta.commandId}\n${kind}`).digest("hex");
  // Shaped as a version-4 UUID so it looks like every other id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A date-time: ISO 8601 text (checked by the decider) or epoch milliseconds. */
export const dateTimeParam = {
  type: "multi",
  rules: [
    { type: "string", max: 40 },
    // Epoch milliseconds up to the last instant a Date can hold.
    { type: "number", integer: true, positive: true, max: 8_640_000_000_000_000 },
  ],
};

/** Deeper than this, a client should narrow its search: skipping 10,000 pages costs the store a scan. */
export const MAX_PAGE = 10_000;

/**
 * `page` and `pageSize` of every list, bounded like every numeric parameter: query values
 * arrive as text, and "1e308" converts to a perfectly integral number.
 */
export function pagingParams(maxPageSize = 100) {
  return {
    page: { type: "number", integer: true, positive: true, max: MAX_PAGE, convert: true, optional: true },
    pageSize: { type: "number", integer: true, positive: true, max: maxPageSize, convert: true, optional: true },
  };
}

/**
 * What a catalogue write may be refused with (lib/domain/actor.ts, validation.ts, external.ts),
 * for the actions' `errors` declarations (see types/moleculer.d.ts).
 */
export const CATALOGUE_WRITE_ERRORS = {
  VALIDATION: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  IMPORTED: 409,
  NOT_IMPORTED: 409,
  UNKNOWN_REFERENCE: 422,
} as const;
