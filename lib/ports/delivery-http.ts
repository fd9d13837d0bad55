/**
 * The HTTP side shared by the message channels (SMS gateway, FCM, Web Push): one POST per
 * call, no retries of its own (the notification service retries with backoff, and a blind
 * repeat of a POST could deliver twice), and every failure to get an answer surfaced as a
 * transient DeliveryError. Messages never carry the URL's query, the body or the headers.
 */
import { DeliveryError } from "./delivery";
import { networkErrorCode, parseJson, parseRetryAfter } from "./http";

export interface DeliveryRequest {
  url: URL;
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** The whole exchange, body included. */
  timeoutMs: number;
  /** What is asked of whom, for messages: e.g. "SMS.ru send". */
  what: string;
}

export interface DeliveryResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body; `undefined` when empty or not JSON. */
  json: unknown;
}

export async function postForDelivery(request: DeliveryRequest): Promise<DeliveryResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: timeout,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: parseJson(text) };
  } catch (error) {
    if (timeout.aborted) {
      throw new DeliveryError(`${request.what}: no answer within ${request.timeoutMs} ms`, "transient", undefined, {
        cause: error,
      });
    }
    throw new DeliveryError(`${request.what}: network error (${networkErrorCode(error)})`, "transient", undefined, {
      cause: error,
    });
  }
}

/** The answer's `Retry-After` in milliseconds, when it has a usable one. */
export function retryAfterMs(headers: Headers): number | undefined {
  const seconds = parseRetryAfter(headers.get("retry-after"));
  return seconds === undefined ? undefined : seconds * 1000;
}

/** 429 and 5xx: the provider asks to come back later (honouring its Retry-After). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
