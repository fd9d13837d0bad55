import { randomBytes } from "node:crypto";
import { DuplicateKeyError, type Doc, type Store } from "../store/types";

const SECRETS_COLLECTION = "secrets";

interface SecretDoc extends Doc {
  value: string;
}

/**
 * A server key: the configured one, or the one kept in the store under `id`, made by whichever
 * node comes first, then read by all (the store is what every node of a cluster shares, and in
 * the quick start it lives under DATA_DIR), so what it signed stays valid across restarts.
 */
export async function storedSecret(store: Store, id: string, configured?: string): Promise<string> {
  if (configured !== undefined) return configured;
  const secrets = store.collection<SecretDoc>(SECRETS_COLLECTION);
  const kept = await secrets.get(id);
  if (kept) return kept.value;
  try {
    await secrets.insert({ _id: id, value: randomBytes(32).toString("base64url") });
  } catch (err) {
    // Another node made it first: use theirs.
    if (!(err instanceof DuplicateKeyError)) throw err;
  }
  const made = await secrets.get(id);
  if (!made) throw new Error(`the ${id} secret vanished from the store right after it was written`);
  return made.value;
}
