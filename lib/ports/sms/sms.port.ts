import type { DeliveryReceipt } from "../delivery";

export interface SmsMessage {
  /** The notification's id (logs and the simulator's record; SMS.ru has no idempotency key). */
  id: string;
  /** E.164, e.g. +79001234567. */
  to: string;
  text: string;
}

/**
 * Sends one SMS. Throws DeliveryError: `permanent` for a refused number, `transient` for
 * HTTP 5xx/429 or a non-OK top-level status.
 */
export interface SmsSender {
  send(message: SmsMessage): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}
