/**
 * The built-in FCM simulator's service account, kept in the store like the VAPID pair: its RSA
 * key is made once per data directory (a 2048-bit key is a few hundred ms of CPU, too much for
 * every start), and only the token_uri follows the simulator's port of the day.
 */
import { createPublicKey } from "node:crypto";
import { DuplicateKeyError, type Doc, type Store } from "../../store/types";
import { createServiceAccountAsync, parseServiceAccount, type LoadedServiceAccount, type ServiceAccount } from "./fcm.account";
import type { FcmSimulator } from "./fcm.simulator";

const SECRETS_COLLECTION = "secrets";
const ACCOUNT_ID = "fcm-simulator";

interface AccountDoc extends Doc {
  account: Omit<ServiceAccount, "token_uri">;
}

/** The kept account (made by whichever node comes first), pointed at this simulator and trusted by it. */
export async function simulatorServiceAccount(store: Store, simulator: FcmSimulator): Promise<LoadedServiceAccount> {
  const secrets = store.collection<AccountDoc>(SECRETS_COLLECTION);
  let kept = await secrets.get(ACCOUNT_ID);
  if (!kept) {
    const { account } = await createServiceAccountAsync(simulator.tokenUri);
    const { token_uri: _tokenUri, ...portable } = account;
    try {
      await secrets.insert({ _id: ACCOUNT_ID, account: portable });
    } catch (err) {
      // Another node made it first: use theirs.
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    kept = await secrets.get(ACCOUNT_ID);
    if (!kept) throw new Error("the FCM simulator's account vanished from the store right after it was written");
  }
  // Throws a ServiceAccountError naming the field if the kept document was damaged.
  const account = parseServiceAccount({ ...kept.account, token_uri: simulator.tokenUri });
  const publicKeyPem = createPublicKey(account.privateKey).export({ type: "spki", format: "pem" }).toString();
  simulator.trust(account.clientEmail, publicKeyPem, account.projectId);
  return account;
}
