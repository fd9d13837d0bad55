import { nonNegativeInt, text } from "./validation";

/** A failed call to an outside service (geocoder, music catalogue), kept for a status display. */
export interface ExternalFailure {
  at: number;
  code: string;
  message: string;
}

export function externalFailure(at: unknown, code: unknown, message: unknown): ExternalFailure {
  return {
    at: nonNegativeInt(at, "at"),
    code: text(code, "code", { max: 100 }),
    message: text(message, "message", { max: 1000 }),
  };
}

/** A job retried in a loop must not flood the log with the same failure: it is recorded once. */
export function sameFailure(previous: ExternalFailure | undefined, next: ExternalFailure): boolean {
  return previous?.code === next.code && previous.message === next.message;
}
