import { inspect } from "node:util";
import { DeliveryError, type DeliveryFailureKind } from "../../../lib/ports/delivery";

/** The rejection of `promise`, checked to be a DeliveryError of this kind that shows none of `secrets` anywhere. */
export async function deliveryRejection(
  promise: Promise<unknown>,
  kind: DeliveryFailureKind,
  secrets: string[],
): Promise<DeliveryError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  expect({ kind: error.kind, message: error.message }).toEqual({ kind, message: expect.any(String) });
  const shown = inspect(error, { depth: 10 });
  for (const secret of secrets) expect(shown).not.toContain(secret);
  return error;
}
