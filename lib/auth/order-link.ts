/**
 * The buyer's way back to an order without a bearer token: the payment provider sends the
 * browser to `{PUBLIC_URL}/orders/{id}?t={capability}`, where the capability is an HMAC of the
 * order id under a server secret. Whoever holds the link may see that order's page (as with an
 * e-mailed ticket link); nobody can make one for another order.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { DuplicateKeyError, type Doc, type Store } from "../store/types";

/** Domain separation: the same secret could one day sign other links. */
const PURPOSE = "order-page:v1:";
const SECRETS_COLLECTION = "secrets";
const SECRET_ID = "order-links";

export interface OrderLinks {
  /** The absolute URL of the order's page, capability included. */
  url(orderId: string): string;
  /** Whether `token` is the capability of `orderId` (constant time). */
  verify(orderId: string, token: unknown): boolean;
}

export function orderLinks(publicUrl: string, secret: string): OrderLinks {
  if (secret.length < 32) throw new RangeError("the order-link secret must have at least 32 characters");
  const base = publicUrl.replace(/\/+$/, "");
  const capability = (orderId: string) =>
    createHmac("sha256", secret)
      .update(PURPOSE + orderId)
      .digest("base64url");
  return {
    url: (orderId) => `${base}/orders/${encodeURIComponent(orderId)}?t=${capability(orderId)}`,
    verify(orderId, token) {
      if (typeof token !== "string") return false;
      const expected = Buffer.from(capability(orderId));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

interface SecretDoc extends Doc {
  value: string;
}

/**
 * The configured secret (ORDER_LINK_SECRET), or the one kept in the store: made by whichever
 * node comes first, then read by all (the store is what every node of a cluster shares, and in
 * the quick start it lives under DATA_DIR), so links in a buyer's history survive restarts.
 */
export async function orderLinkSecret(store: Store, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured;
  const secrets = store.collection<SecretDoc>(SECRETS_COLLECTION);
  const kept = await secrets.get(SECRET_ID);
  if (kept) return kept.value;
  try {
    await secrets.insert({ _id: SECRET_ID, value: randomBytes(32).toString("base64url") });
  } catch (err) {
    // Another node made it first: use theirs.
    if (!(err instanceof DuplicateKeyError)) throw err;
  }
  const made = await secrets.get(SECRET_ID);
  if (!made) throw new Error("the order-link secret vanished from the store right after it was written");
  return made.value;
}
