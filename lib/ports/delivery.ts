/**
 * What every message channel (e-mail, SMS, push) answers, so the notification service can
 * decide between "done", "try again later" and "give up" without knowing the channel.
 */

/** A message the provider accepted. */
export interface DeliveryReceipt {
  /** The provider's id of the message (SMTP queue id, sms_id, FCM message name...), for support. */
  providerId?: string;
}

/**
 * - `transient`: try again later (SMTP 4xx, connection refused, HTTP 429/5xx, timeouts).
 * - `permanent`: the provider refused this message for good (address or number refused,
 *   malformed); recorded and not retried.
 * - `gone`: the push device no longer exists (FCM UNREGISTERED, Web Push 404/410); not retried,
 *   and the device is removed from the user's profile.
 */
export type DeliveryFailureKind = "transient" | "permanent" | "gone";

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly kind: DeliveryFailureKind,
    /** The provider's Retry-After, when it gave one (transient only). */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DeliveryError";
  }
}

export function isDeliveryError(err: unknown): err is DeliveryError {
  return err instanceof DeliveryError;
}
