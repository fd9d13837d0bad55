/**
 * The buyer's way back to an order without a bearer token: the payment provider sends the
 * browser to `{PUBLIC_URL}/orders/{id}?t={capability}`, where the capability is an HMAC of the
 * order id under a server secret. Whoever holds the link may see that order's page (as with an
 * e-mailed ticket link); nobody can make one for another order.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/types";
import { storedSecret } from "./stored-secret";

/** Domain separation: the same secret could one day sign other links. */
const PURPOSE = "order-page:v1:";
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

/**
 * The configured secret (ORDER_LINK_SECRET), or the one kept in the store (see stored-secret.ts),
 * so links in a buyer's history survive restarts.
 */
export function orderLinkSecret(store: Store, configured: string | undefined): Promise<string> {
  return storedSecret(store, SECRET_ID, configured);
}
