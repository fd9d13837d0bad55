import { Errors } from "moleculer";
import { AuthError } from "../auth/errors";
import { DomainError, withoutStack } from "../eventlog/decider";

/**
 * Moleculer errors keep their HTTP code and a stable `type` across the transporter, so a
 * domain refusal reaches the client as e.g. 409 SEAT_TAKEN, never as a bare 500.
 */
export function toMoleculerError(err: unknown): unknown {
  if (err instanceof DomainError) {
    // A 5xx refusal (e.g. 503 HOLD_EXPIRED) says "send the same request again": retryable, and
    // shown to the client as itself rather than as an internal error.
    return withoutStack(() =>
      err.status >= 500
        ? new Errors.MoleculerRetryableError(err.message, err.status, err.type, err.data)
        : new Errors.MoleculerClientError(err.message, err.status, err.type, err.data),
    );
  }
  if (err instanceof AuthError) {
    return err.status >= 500
      ? new Errors.MoleculerRetryableError(err.message, err.status, err.reason)
      : new Errors.MoleculerClientError(err.message, err.status, err.reason);
  }
  return err;
}

/** Part of the cluster (or its store) is not answering: one retryable 503 naming nothing internal. */
export function serviceUnavailable(): Errors.MoleculerRetryableError {
  return new Errors.MoleculerRetryableError(
    "part of the service is not answering right now: retry in a moment",
    503,
    "SERVICE_UNAVAILABLE",
    { retryAfterSec: 1 },
  );
}

export function unauthorized(message = "sign in first: this needs a bearer token"): Error {
  return new Errors.MoleculerClientError(message, 401, "TOKEN_MISSING");
}

export function forbidden(message: string): Error {
  return new Errors.MoleculerClientError(message, 403, "FORBIDDEN");
}

export function notFound(what: string, id: string): Error {
  return new Errors.MoleculerClientError(`${what} ${id} does not exist`, 404, "NOT_FOUND", { id });
}
