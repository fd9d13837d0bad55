import type { DeliveryReceipt } from "../delivery";

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A device registered by a user: an FCM registration token or a browser's Web Push subscription. */
export type PushTarget = { kind: "fcm"; token: string } | { kind: "webpush"; subscription: WebPushSubscription };

export interface PushMessage {
  /** The notification's id (collapse key / topic, logs). */
  id: string;
  title: string;
  body: string;
  /** String values only (FCM's rule); e.g. { orderId, kind, url }. */
  data: Record<string, string>;
}

/**
 * Sends one push to one device, through FCM HTTP v1 or Web Push (VAPID, aes128gcm) by the
 * target's kind. Throws DeliveryError: `gone` when the device no longer exists, `transient`
 * for 429/5xx (with Retry-After), `permanent` otherwise.
 */
export interface PushSender {
  send(target: PushTarget, message: PushMessage): Promise<DeliveryReceipt>;
  /** The VAPID public key browsers subscribe with (the notification service serves it to browsers). */
  readonly vapidPublicKey: string;
  close(): Promise<void>;
}
