/**
 * SMS.ru status codes and what each means for a notification: the one place that knows them.
 * Taken from SMS.ru's public documentation and NOT verified against the live service, so a
 * code missing here falls back to the rule of its level: a per-number ERROR is permanent (the
 * number was refused), a top-level non-OK answer transient (the request as a whole failed).
 */
import type { DeliveryFailureKind } from "../delivery";

export interface SmsRuCode {
  text: string;
  /** What a per-number ERROR with this code means for this message. */
  perNumber: Exclude<DeliveryFailureKind, "gone">;
}

/** Accepted for delivery (top level: the request was done). */
export const SMSRU_OK = 100;

export const SMSRU_CODES: Readonly<Record<number, SmsRuCode>> = {
  100: { text: "request done / message queued", perNumber: "permanent" },
  200: { text: "wrong api_id", perNumber: "transient" },
  201: { text: "not enough money on the account", perNumber: "transient" },
  202: { text: "wrong recipient number", perNumber: "permanent" },
  203: { text: "no message text", perNumber: "permanent" },
  204: { text: "sender name not approved", perNumber: "permanent" },
  205: { text: "message too long", perNumber: "permanent" },
  206: { text: "daily limit exceeded", perNumber: "transient" },
  207: { text: "messages to this number are not allowed", perNumber: "permanent" },
  208: { text: "wrong time parameter", perNumber: "permanent" },
  209: { text: "number in the stop list", perNumber: "permanent" },
  210: { text: "GET used where POST is required", perNumber: "permanent" },
  211: { text: "method not found", perNumber: "permanent" },
  212: { text: "text must be UTF-8", perNumber: "permanent" },
  213: { text: "more than 100 numbers", perNumber: "permanent" },
  220: { text: "service temporarily unavailable", perNumber: "transient" },
  230: { text: "daily limit of messages to this number exceeded", perNumber: "transient" },
  231: { text: "limit of identical messages to this number per minute exceeded", perNumber: "transient" },
  232: { text: "limit of identical messages to this number per day exceeded", perNumber: "transient" },
  300: { text: "wrong token", perNumber: "transient" },
  301: { text: "wrong api_id or login/password", perNumber: "transient" },
  302: { text: "account not confirmed", perNumber: "transient" },
  500: { text: "server error", perNumber: "transient" },
};

/** A per-number ERROR: refused for good unless the code says the gateway or the account is the problem. */
export function perNumberFailure(code: number | undefined): Exclude<DeliveryFailureKind, "gone"> {
  return (code !== undefined && SMSRU_CODES[code]?.perNumber) || "permanent";
}

export function describeCode(code: number | undefined): string {
  if (code === undefined) return "no status_code";
  const known = SMSRU_CODES[code];
  return known ? `${code} (${known.text})` : `${code}`;
}
