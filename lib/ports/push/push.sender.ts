import type { DeliveryReceipt } from "../delivery";
import type { PushMessage, PushSender, PushTarget, WebPushSubscription } from "./push.port";

/** The FCM side as the dispatcher uses it (FcmClient). */
export interface FcmSender {
  send(deviceToken: string, message: PushMessage): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

/** The Web Push side as the dispatcher uses it (WebPushSender). */
export interface WebPushChannel {
  readonly vapidPublicKey: string;
  send(subscription: WebPushSubscription, message: PushMessage): Promise<DeliveryReceipt>;
}

/** One PushSender for both kinds of device: FCM registration tokens and browsers' Web Push subscriptions. */
export class DispatchingPushSender implements PushSender {
  constructor(
    private readonly fcm: FcmSender,
    private readonly webPush: WebPushChannel,
  ) {}

  get vapidPublicKey(): string {
    return this.webPush.vapidPublicKey;
  }

  send(target: PushTarget, message: PushMessage): Promise<DeliveryReceipt> {
    switch (target.kind) {
      case "fcm":
        return this.fcm.send(target.token, message);
      case "webpush":
        return this.webPush.send(target.subscription, message);
    }
  }

  close(): Promise<void> {
    return this.fcm.close();
  }
}
