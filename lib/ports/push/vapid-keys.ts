/**
 * The VAPID key pair (RFC 8292) that identifies us to browsers' push services. A browser
 * subscribes with the public key, and a subscription only accepts pushes signed with the
 * matching private key: every node must use the same pair, for good.
 */
import { createECDH } from "node:crypto";
import { DuplicateKeyError, type Doc, type Store } from "../../store/types";

/** web-push, loaded at the first push or when the pair is first made, not at every start. */
export const webPush = () => require("web-push") as typeof import("web-push");

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url (65 bytes). */
  publicKey: string;
  /** base64url (32 bytes). */
  privateKey: string;
}

const SECRETS_COLLECTION = "secrets";
const VAPID_ID = "vapid";

interface VapidDoc extends Doc {
  publicKey: string;
  privateKey: string;
}

/** Why the pair is unusable, or null: each key well formed, and the public key the private key's. */
export function vapidKeysProblem(keys: VapidKeys): string | null {
  const pub = Buffer.from(keys.publicKey, "base64url");
  const priv = Buffer.from(keys.privateKey, "base64url");
  if (pub.length !== 65 || pub[0] !== 0x04) return "the public key is not a base64url uncompressed P-256 point (65 bytes)";
  if (priv.length !== 32) return "the private key is not 32 bytes of base64url";
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(priv);
    if (!ecdh.getPublicKey().equals(pub)) return "the public key does not belong to the private key";
  } catch {
    return "the private key is not a P-256 private key";
  }
  return null;
}

/**
 * The configured pair (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY), or the one kept in the store:
 * made by whichever node comes first, then read by all, so subscriptions survive restarts and
 * any node can push to them.
 */
export async function vapidKeys(store: Store, configured: Partial<VapidKeys>): Promise<VapidKeys> {
  if (configured.publicKey !== undefined && configured.privateKey !== undefined) {
    return { publicKey: configured.publicKey, privateKey: configured.privateKey };
  }
  const secrets = store.collection<VapidDoc>(SECRETS_COLLECTION);
  const kept = await secrets.get(VAPID_ID);
  if (kept) return { publicKey: kept.publicKey, privateKey: kept.privateKey };
  try {
    await secrets.insert({ _id: VAPID_ID, ...webPush().generateVAPIDKeys() });
  } catch (err) {
    // Another node made it first: use theirs.
    if (!(err instanceof DuplicateKeyError)) throw err;
  }
  const made = await secrets.get(VAPID_ID);
  if (!made) throw new Error("the VAPID keys vanished from the store right after they were written");
  return { publicKey: made.publicKey, privateKey: made.privateKey };
}
