import { DeliveryError, type DeliveryReceipt } from "../delivery";
import { isRetryableStatus, postForDelivery, retryAfterMs, type DeliveryResponse } from "../delivery-http";
import { integerSetting, isRecord, redact } from "../http";
import type { LoadedServiceAccount } from "./fcm.account";
import { AccessTokenSource } from "./fcm.oauth";
import type { PushMessage } from "./push.port";

export interface FcmClientOptions {
  account: LoadedServiceAccount;
  /** Default `https://fcm.googleapis.com`; the simulator's URL in tests and the quick start. */
  baseUrl?: string;
  /** Each request (token exchange, send); default 10000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

export const FCM_URL = "https://fcm.googleapis.com";

/** What FCM's error body says, as far as the outcome depends on it. */
interface FcmErrorInfo {
  /** google.rpc status, e.g. INVALID_ARGUMENT, NOT_FOUND. */
  status?: string;
  /** FcmError.errorCode, e.g. UNREGISTERED, SENDER_ID_MISMATCH. */
  errorCode?: string;
  /** BadRequest field violations, e.g. message.token. */
  fields: string[];
  message?: string;
}

/**
 * FCM HTTP v1 `messages:send`, one device per call, authorised by the service account's OAuth2
 * token (cached; renewed once when FCM answers 401). No blind retries: the notification
 * service retries transient failures. Messages never carry the device token.
 */
export class FcmClient {
  private readonly tokens: AccessTokenSource;
  private readonly endpoint: URL;
  private readonly timeoutMs: number;

  constructor(options: FcmClientOptions) {
    this.timeoutMs = integerSetting("FcmClient", "timeoutMs", options.timeoutMs ?? 10_000, 1);
    this.tokens = new AccessTokenSource(options.account, this.timeoutMs, options.now);
    const base = options.baseUrl ?? FCM_URL;
    const project = encodeURIComponent(options.account.projectId);
    this.endpoint = new URL(`v1/projects/${project}/messages:send`, base.endsWith("/") ? base : `${base}/`);
  }

  /** Token exchanges made so far (one per token lifetime, however many sends). */
  get tokenExchanges(): number {
    return this.tokens.exchanges;
  }

  async send(deviceToken: string, message: PushMessage): Promise<DeliveryReceipt> {
    const what = `push ${message.id} (FCM)`;
    if (deviceToken.trim() === "") throw new DeliveryError(`${what}: the device token is empty`, "gone");
    const body = JSON.stringify({
      message: { token: deviceToken, notification: { title: message.title, body: message.body }, data: message.data },
    });
    for (let attempt = 0; ; attempt++) {
      const bearer = await this.tokens.get();
      const response = await postForDelivery({
        url: this.endpoint,
        headers: {
          authorization: `Bearer ${bearer}`,
          "content-type": "application/json; charset=utf-8",
          accept: "application/json",
        },
        body,
        timeoutMs: this.timeoutMs,
        what,
      });
      if (response.status === 401 && attempt === 0) {
        // Revoked or expired early: one fresh token, then FCM's word stands.
        this.tokens.invalidate(bearer);
        continue;
      }
      return interpret(what, response, (text) => redact(text, [deviceToken, bearer]));
    }
  }

  async close(): Promise<void> {
    // Nothing held open: fetch's keep-alive sockets close by themselves.
  }
}

function interpret(what: string, response: DeliveryResponse, safe: (text: string) => string): DeliveryReceipt {
  const { status, json } = response;
  if (status === 200) {
    return isRecord(json) && typeof json.name === "string" ? { providerId: json.name } : {};
  }
  const info = errorInfo(json);
  const detail = `${what}: FCM answered HTTP ${status}${info.errorCode ? ` ${info.errorCode}` : info.status ? ` ${info.status}` : ""}${
    info.message ? `: ${safe(info.message)}` : ""
  }`;
  if (isRetryableStatus(status)) throw new DeliveryError(detail, "transient", retryAfterMs(response.headers));
  if (status === 404 || info.errorCode === "UNREGISTERED") throw new DeliveryError(detail, "gone");
  if (status === 400 && aboutTheToken(info)) throw new DeliveryError(detail, "gone");
  // 401 twice: the credentials, not the message; fixing them must not have lost it.
  if (status === 401) throw new DeliveryError(detail, "transient");
  throw new DeliveryError(detail, "permanent");
}

/** INVALID_ARGUMENT is also what a bad payload gets: only a complaint about the token means the device is gone. */
function aboutTheToken(info: FcmErrorInfo): boolean {
  if (info.status !== "INVALID_ARGUMENT" && info.errorCode !== "INVALID_ARGUMENT") return false;
  if (info.fields.includes("message.token")) return true;
  return /registration token/i.test(info.message ?? "");
}

function errorInfo(json: unknown): FcmErrorInfo {
  const info: FcmErrorInfo = { fields: [] };
  const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
  if (!error) return info;
  if (typeof error.status === "string") info.status = error.status;
  if (typeof error.message === "string") info.message = error.message;
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isRecord(detail)) continue;
    if (typeof detail.errorCode === "string") info.errorCode = detail.errorCode;
    for (const violation of Array.isArray(detail.fieldViolations) ? detail.fieldViolations : []) {
      if (isRecord(violation) && typeof violation.field === "string") info.fields.push(violation.field);
    }
  }
  return info;
}
