import { ConfigError } from "../../config/env";
import type { NotificationsConfig } from "../../config/notifications";
import type { Store } from "../../store/types";
import { readServiceAccount, ServiceAccountError, type LoadedServiceAccount } from "./fcm.account";
import { FcmClient } from "./fcm.client";
import { simulatorServiceAccount } from "./fcm-simulator-account";
import { startFcmSimulator, type FcmSimulator } from "./fcm.simulator";
import type { PushSender } from "./push.port";
import { DispatchingPushSender } from "./push.sender";
import { vapidKeys, vapidKeysProblem } from "./vapid-keys";
import { WebPushSender } from "./webpush.sender";

export interface PushPort {
  sender: PushSender;
  /** The in-process FCM simulator when FCM_PROVIDER=simulator (tests and the REPL read its deliveries). */
  fcmSimulator: FcmSimulator | null;
}

/**
 * FCM (the real service with the configured service account, or a simulator started here with
 * the simulator's account kept in the store) and Web Push (with the configured VAPID pair, or the one kept in the store).
 */
export async function createPushPort(
  config: NotificationsConfig["push"],
  store: Store,
  log: { info(message: string): void },
  closers: Array<() => Promise<void>>,
): Promise<PushPort> {
  const { fcm, vapid } = config;
  const keys = await vapidKeys(store, vapid);
  const problem = vapidKeysProblem(keys);
  if (problem) {
    const source =
      vapid.publicKey === undefined
        ? "the VAPID keys kept in the store (collection secrets, id vapid)"
        : "VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY";
    throw new ConfigError(`${source}: ${problem}`);
  }
  const webPush = new WebPushSender({
    vapid: { ...keys, subject: vapid.subject },
    timeoutMs: fcm.timeoutMs,
    allowedHosts: config.webPushHosts,
  });

  let fcmSimulator: FcmSimulator | null = null;
  let account: LoadedServiceAccount;
  let baseUrl = fcm.url;
  if (fcm.provider === "fcm") {
    account = await readServiceAccount(fcm.serviceAccountFile!).catch((err: unknown) => {
      if (err instanceof ServiceAccountError) throw new ConfigError(`FCM_SERVICE_ACCOUNT_FILE: ${err.message}`);
      throw err;
    });
  } else {
    const simulator = await startFcmSimulator();
    fcmSimulator = simulator;
    closers.push(() => simulator.close());
    account = await simulatorServiceAccount(store, simulator).catch((err: unknown) => {
      if (err instanceof ServiceAccountError)
        throw new ConfigError(
          `the FCM simulator's account kept in the store (collection secrets, id fcm-simulator): ${err.message}`,
        );
      throw err;
    });
    baseUrl = simulator.url;
    log.info(`push: built-in FCM simulator at ${simulator.url}`);
  }
  const client = new FcmClient({ account, baseUrl, timeoutMs: fcm.timeoutMs });
  const sender = new DispatchingPushSender(client, webPush);
  closers.push(() => sender.close());
  return { sender, fcmSimulator };
}
