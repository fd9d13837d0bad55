import { DeliveryError, type DeliveryReceipt } from "../delivery";
import { isRetryableStatus, postForDelivery, retryAfterMs, type DeliveryResponse } from "../delivery-http";
import { integerSetting, isRecord, redact } from "../http";
import type { SmsMessage, SmsSender } from "./sms.port";
import { describeCode, perNumberFailure } from "./smsru.codes";

export interface SmsRuClientOptions {
  apiId: string;
  /** Default `https://sms.ru`; the simulator's URL in tests and the quick start. */
  baseUrl?: string;
  /** The sender name registered with SMS.ru (`from`); absent: the account's default. */
  sender?: string;
  /** The whole call; default 10000 ms. */
  timeoutMs?: number;
}

export const SMSRU_URL = "https://sms.ru";

/** E.164: a plus and up to 15 digits, the first not 0. */
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * SMS.ru's `sms/send`, one number per call. No retries here: SMS.ru has no idempotency key, so
 * only the notification service, which records what was sent, decides to try again. Messages
 * name the notification id, never the number, the text or the api_id.
 */
export class SmsRuClient implements SmsSender {
  readonly #apiId: string;
  private readonly endpoint: URL;
  private readonly sender?: string;
  private readonly timeoutMs: number;

  constructor(options: SmsRuClientOptions) {
    if (options.apiId.trim() === "") throw new TypeError("SmsRuClient: apiId is empty");
    this.#apiId = options.apiId;
    const base = options.baseUrl ?? SMSRU_URL;
    // Relative to the base so that a base with a path prefix (behind a proxy) keeps it.
    this.endpoint = new URL("sms/send", base.endsWith("/") ? base : `${base}/`);
    if (options.sender !== undefined && options.sender.trim() !== "") this.sender = options.sender;
    this.timeoutMs = integerSetting("SmsRuClient", "timeoutMs", options.timeoutMs ?? 10_000, 1);
  }

  async send(message: SmsMessage): Promise<DeliveryReceipt> {
    const what = `SMS ${message.id}`;
    if (!E164.test(message.to)) throw new DeliveryError(`${what}: the number is not in E.164 form`, "permanent");
    if (message.text.trim() === "") throw new DeliveryError(`${what}: the text is empty`, "permanent");
    const phone = message.to.slice(1);
    const form = new URLSearchParams({ api_id: this.#apiId, to: phone, msg: message.text, json: "1" });
    if (this.sender) form.set("from", this.sender);

    const response = await postForDelivery({
      url: this.endpoint,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      timeoutMs: this.timeoutMs,
      what: `${what}: SMS.ru`,
    });
    return this.interpret(what, phone, response);
  }

  async close(): Promise<void> {
    // Nothing held open: fetch's keep-alive sockets close by themselves.
  }

  private interpret(what: string, phone: string, { status, headers, json }: DeliveryResponse): DeliveryReceipt {
    const safe = (text: string) => redact(text, [this.#apiId, phone, `+${phone}`]);
    if (isRetryableStatus(status)) {
      throw new DeliveryError(`${what}: SMS.ru answered HTTP ${status}`, "transient", retryAfterMs(headers));
    }
    if (status !== 200) throw new DeliveryError(`${what}: SMS.ru answered HTTP ${status}`, "permanent");
    if (!isRecord(json))
      throw new DeliveryError(`${what}: SMS.ru answered 200 with a body that is not a JSON object`, "transient");

    const code = numeric(json.status_code);
    if (json.status !== "OK") {
      // The request as a whole failed (account, gateway): nothing was sent, try again later.
      const text = typeof json.status_text === "string" ? `: ${safe(json.status_text)}` : "";
      throw new DeliveryError(`${what}: SMS.ru refused the request, code ${describeCode(code)}${text}`, "transient");
    }
    const entry = isRecord(json.sms) ? (json.sms[phone] ?? json.sms[`+${phone}`]) : undefined;
    if (!isRecord(entry)) {
      // Accepted, yet nothing about our number: the answer cannot be read; asking again is the safe side.
      throw new DeliveryError(`${what}: SMS.ru's answer has no entry for the number`, "transient");
    }
    const entryCode = numeric(entry.status_code);
    if (entry.status !== "OK") {
      const text = typeof entry.status_text === "string" ? `: ${safe(entry.status_text)}` : "";
      throw new DeliveryError(
        `${what}: SMS.ru refused the number, code ${describeCode(entryCode)}${text}`,
        perNumberFailure(entryCode),
      );
    }
    const id = smsId(entry.sms_id);
    return id === undefined ? {} : { providerId: id };
  }
}

function numeric(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function smsId(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined;
}
