import { inspect } from "node:util";
import type { PortError } from "../../../lib/ports/http";

/** The rejection of `promise`, checked to be a `type` with this `code` that shows no `secret` anywhere. */
export async function rejection<E extends PortError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  code: E["code"],
  secret: string,
): Promise<E> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${String(error)}`);
  expect(error.code).toBe(code);
  expect(inspect(error, { depth: 10 })).not.toContain(secret);
  return error;
}
