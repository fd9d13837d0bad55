import { setTimeout as sleep } from "node:timers/promises";
import { fetchJson, HttpTransportError, integerSetting, parseRetryAfter, redact, type JsonResponse } from "../http";
import { parseErrorBody, parsePayment, parseRefund, type ApiErrorBody } from "./yookassa.parse";
import {
  isYookassaId,
  minorToValue,
  YookassaBadResponseError,
  YookassaForbiddenError,
  YookassaInvalidRequestError,
  YookassaNotFoundError,
  YookassaRateLimitedError,
  YookassaUnauthorizedError,
  YookassaUnavailableError,
  type Amount,
  type CancelPaymentRequest,
  type CapturePaymentRequest,
  type CreatePaymentRequest,
  type CreateRefundRequest,
  type Payment,
  type PaymentGateway,
  type Refund,
} from "./yookassa.port";

/** One line on the fiscal receipt (54-FZ), for shops that have receipts switched on in YooKassa. */
export interface ReceiptSettings {
  /** The shop's VAT code as YooKassa numbers them (1 = no VAT, ...): depends on its tax system. */
  vatCode: number;
  /** Default `service`. */
  paymentSubject?: string;
  /** Default `full_payment`. */
  paymentMode?: string;
}

export interface YookassaClientOptions {
  shopId: string;
  secretKey: string;
  /** Default `https://api.yookassa.ru/v3/`; the simulator's `apiUrl` in tests and the quick start. */
  baseUrl?: string;
  /** Per attempt; default 10000 ms. */
  timeoutMs?: number;
  /** The whole call, retries and waits included; default 30000 ms. */
  callTimeoutMs?: number;
  /** Extra attempts after 5xx, 202 (still processing), timeouts and network errors; default 3. */
  retries?: number;
  /** Pause before the first such retry, doubled for each next one; default 300 ms. */
  backoffMs?: number;
  /** Cap on any single pause, `retry_after` included; default 5000 ms. */
  maxBackoffMs?: number;
  /** Extra attempts after 429; default 2. */
  rateLimitRetries?: number;
  /** A 429 asking to wait longer than this is reported at once rather than waited out; default 5000 ms. */
  maxRetryAfterMs?: number;
  /** When set, payments carry a receipt built from the customer's contact; when absent the contact is not sent. */
  receipt?: ReceiptSettings;
}

export const YOOKASSA_API_URL = "https://api.yookassa.ru/v3/";

/** YooKassa accepts keys of up to 64 characters. */
const IDEMPOTENCE_KEY = /^[\x21-\x7e]{1,64}$/;

type Method = "GET" | "POST";

/**
 * YooKassa API v3. Every POST carries the caller's `Idempotence-Key`, and a POST whose result is
 * unknown (5xx, 202, timeout, network) is repeated with the same key and body, so YooKassa
 * performs it at most once. Credentials live in private fields and are scrubbed from messages.
 */
export class YookassaClient implements PaymentGateway {
  readonly #authorization: string;
  readonly #secrets: string[];
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly callTimeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly rateLimitRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly receipt?: ReceiptSettings;

  constructor(options: YookassaClientOptions) {
    if (options.shopId.trim() === "" || options.shopId.includes(":")) {
      throw new TypeError("YookassaClient: shopId is empty or contains ':'");
    }
    if (options.secretKey.trim() === "") throw new TypeError("YookassaClient: secretKey is empty");
    const token = Buffer.from(`${options.shopId}:${options.secretKey}`, "utf8").toString("base64");
    this.#authorization = `Basic ${token}`;
    this.#secrets = [options.secretKey, token];
    const base = options.baseUrl ?? YOOKASSA_API_URL;
    this.base = new URL(base.endsWith("/") ? base : `${base}/`);
    this.timeoutMs = positive(options.timeoutMs ?? 10_000, "timeoutMs");
    this.callTimeoutMs = positive(options.callTimeoutMs ?? 30_000, "callTimeoutMs");
    this.retries = nonNegative(options.retries ?? 3, "retries");
    this.backoffMs = nonNegative(options.backoffMs ?? 300, "backoffMs");
    this.maxBackoffMs = nonNegative(options.maxBackoffMs ?? 5000, "maxBackoffMs");
    this.rateLimitRetries = nonNegative(options.rateLimitRetries ?? 2, "rateLimitRetries");
    this.maxRetryAfterMs = nonNegative(options.maxRetryAfterMs ?? 5000, "maxRetryAfterMs");
    if (options.receipt) this.receipt = options.receipt;
  }

  async createPayment(request: CreatePaymentRequest): Promise<Payment> {
    const amount = amountOf(request.amountMinor, request.currency, "amount");
    checkDescription(request.description, 128, "description");
    checkMetadata(request.metadata);
    checkReturnUrl(request.returnUrl);
    const body: Record<string, unknown> = {
      amount,
      // Two-stage: the money is only held until we capture it, so a sale that fails after the
      // buyer paid (seats gone, hold expired) is undone by a cancel instead of a refund.
      capture: false,
      confirmation: { type: "redirect", return_url: request.returnUrl },
      metadata: request.metadata,
    };
    if (request.description !== "") body.description = request.description;
    if (this.receipt) body.receipt = receiptFor(this.receipt, request, amount);

    const payment = parsePayment(await this.send("POST", "payments", request.idempotenceKey, body));
    if (payment.amount.value !== amount.value || payment.amount.currency !== amount.currency) {
      throw new YookassaBadResponseError(
        `payment ${payment.id} was created for ${payment.amount.value} ${payment.amount.currency}, not ${amount.value} ${amount.currency}`,
      );
    }
    return payment;
  }

  async getPayment(paymentId: string): Promise<Payment> {
    checkId(paymentId, "payment_id");
    return samePayment(paymentId, parsePayment(await this.send("GET", `payments/${paymentId}`)));
  }

  async capturePayment(paymentId: string, request: CapturePaymentRequest): Promise<Payment> {
    checkId(paymentId, "payment_id");
    const body: Record<string, unknown> = {};
    if (request.amountMinor !== undefined) {
      if (request.currency === undefined)
        throw new YookassaInvalidRequestError("a partial capture needs a currency", { parameter: "amount.currency" });
      body.amount = amountOf(request.amountMinor, request.currency, "amount");
    }
    const payment = parsePayment(await this.send("POST", `payments/${paymentId}/capture`, request.idempotenceKey, body));
    return samePayment(paymentId, payment);
  }

  async cancelPayment(paymentId: string, request: CancelPaymentRequest): Promise<Payment> {
    checkId(paymentId, "payment_id");
    const payment = parsePayment(await this.send("POST", `payments/${paymentId}/cancel`, request.idempotenceKey, {}));
    return samePayment(paymentId, payment);
  }

  async createRefund(request: CreateRefundRequest): Promise<Refund> {
    checkId(request.paymentId, "payment_id");
    const amount = amountOf(request.amountMinor, request.currency, "amount");
    const body: Record<string, unknown> = { payment_id: request.paymentId, amount };
    if (request.description !== undefined && request.description !== "") {
      checkDescription(request.description, 250, "description");
      body.description = request.description;
    }
    const refund = parseRefund(await this.send("POST", "refunds", request.idempotenceKey, body));
    if (refund.payment_id !== request.paymentId || refund.amount.value !== amount.value) {
      throw new YookassaBadResponseError(
        `refund ${refund.id} is for ${refund.amount.value} of payment ${refund.payment_id}, not ${amount.value} of ${request.paymentId}`,
      );
    }
    return refund;
  }

  async getRefund(refundId: string): Promise<Refund> {
    checkId(refundId, "refund_id");
    const refund = parseRefund(await this.send("GET", `refunds/${refundId}`));
    if (refund.id !== refundId) throw new YookassaBadResponseError(`asked for refund ${refundId}, got refund ${refund.id}`);
    return refund;
  }

  /** The parsed JSON of a 2xx answer; any other outcome, once retries are spent, as a typed error. */
  private async send(method: Method, path: string, idempotenceKey?: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.#authorization };
    if (method === "POST") {
      if (idempotenceKey === undefined || !IDEMPOTENCE_KEY.test(idempotenceKey)) {
        throw new YookassaInvalidRequestError("the idempotence key must be 1 to 64 printable ASCII characters", {
          parameter: "Idempotence-Key",
        });
      }
      headers["idempotence-key"] = idempotenceKey;
      headers["content-type"] = "application/json";
    }
    // Serialised once: a repeat must send byte for byte the same body under the same key.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.base);
    const what = `${method} ${url.pathname}`;
    const deadline = AbortSignal.timeout(this.callTimeoutMs);

    let unknownResults = 0;
    let rateLimited = 0;
    for (;;) {
      let response: JsonResponse;
      try {
        response = await fetchJson({
          url,
          method,
          headers,
          body: payload,
          attemptTimeoutMs: this.timeoutMs,
          retries: 0,
          backoffMs: 0,
          deadline,
        });
      } catch (error) {
        if (!(error instanceof HttpTransportError)) throw error;
        if (unknownResults < this.retries && !deadline.aborted) {
          await this.pause(this.backoff(unknownResults++), deadline, what, error);
          continue;
        }
        throw new YookassaUnavailableError(`${what}: ${this.safe(error.message)}`, { cause: error });
      }

      const { status } = response;
      if (status >= 200 && status < 300 && status !== 202) {
        if (response.json === undefined)
          throw new YookassaBadResponseError(`${what} answered ${status} without a JSON body`, { status });
        return response.json;
      }
      const error = parseErrorBody(response.json);
      const retryAfterMs = error.retryAfterMs ?? secondsToMs(parseRetryAfter(response.headers.get("retry-after")));
      if ((status === 202 || status >= 500) && unknownResults < this.retries) {
        await this.pause(Math.min(retryAfterMs ?? this.backoff(unknownResults), this.maxBackoffMs), deadline, what);
        unknownResults++;
        continue;
      }
      if (status === 429 && rateLimited < this.rateLimitRetries) {
        const wait = retryAfterMs ?? this.backoff(rateLimited);
        if (wait <= this.maxRetryAfterMs) {
          await this.pause(wait, deadline, what);
          rateLimited++;
          continue;
        }
      }
      throw this.failure(what, status, error, retryAfterMs);
    }
  }

  private failure(what: string, status: number, error: ApiErrorBody, retryAfterMs: number | undefined): Error {
    const code = error.code === undefined ? "" : ` ${this.safe(error.code)}`;
    const description = error.description === undefined ? "" : `: ${this.safe(error.description)}`;
    const parameter = error.parameter === undefined ? undefined : this.safe(error.parameter);
    const message = `${what} answered ${status}${code}${description}${parameter === undefined ? "" : ` (parameter ${parameter})`}`;
    const details = { status, apiCode: error.code, errorId: error.id };
    if (status === 400) return new YookassaInvalidRequestError(message, { ...details, parameter });
    if (status === 401) return new YookassaUnauthorizedError(message, details);
    if (status === 403) return new YookassaForbiddenError(message, details);
    if (status === 404) return new YookassaNotFoundError(message, details);
    if (status === 429) return new YookassaRateLimitedError(message, retryAfterMs, details);
    if (status === 202 || status >= 500) return new YookassaUnavailableError(`${message}; the result is unknown`, details);
    return new YookassaBadResponseError(message, details);
  }

  private backoff(attempt: number): number {
    return Math.min(this.backoffMs * 2 ** attempt, this.maxBackoffMs);
  }

  private async pause(ms: number, deadline: AbortSignal, what: string, cause?: unknown): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: deadline });
    } catch {
      throw new YookassaUnavailableError(`${what}: no result within ${this.callTimeoutMs} ms; the result is unknown`, { cause });
    }
  }

  private safe(text: string): string {
    return redact(text, this.#secrets);
  }
}

function amountOf(minor: number, currency: string, parameter: string): Amount {
  if (!Number.isSafeInteger(minor) || minor <= 0) {
    throw new YookassaInvalidRequestError(`amount must be a positive whole number of minor units, got ${minor}`, {
      parameter: `${parameter}.value`,
    });
  }
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new YookassaInvalidRequestError(`${JSON.stringify(currency.slice(0, 8))} is not an ISO 4217 currency code`, {
      parameter: `${parameter}.currency`,
    });
  }
  return { value: minorToValue(minor), currency };
}

function checkId(id: string, parameter: string): void {
  // Anything but YooKassa's own id format must not reach a URL path.
  if (!isYookassaId(id))
    throw new YookassaInvalidRequestError(`${JSON.stringify(id.slice(0, 70))} is not a YooKassa id`, { parameter });
}

function checkDescription(text: string, max: number, parameter: string): void {
  if (text.length > max) throw new YookassaInvalidRequestError(`${parameter} is longer than ${max} characters`, { parameter });
}

function checkMetadata(metadata: Record<string, string>): void {
  const entries = Object.entries(metadata);
  const fail = (problem: string) => new YookassaInvalidRequestError(`metadata ${problem}`, { parameter: "metadata" });
  if (entries.length > 16) throw fail("has more than 16 keys");
  for (const [key, value] of entries) {
    if (key.length > 32) throw fail(`key ${JSON.stringify(key.slice(0, 40))} is longer than 32 characters`);
    if (typeof value !== "string" || value.length > 512) throw fail(`value of ${key} is not a string of at most 512 characters`);
  }
}

function checkReturnUrl(returnUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(returnUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new YookassaInvalidRequestError("returnUrl is not an absolute http(s) URL", { parameter: "confirmation.return_url" });
  }
}

function receiptFor(settings: ReceiptSettings, request: CreatePaymentRequest, amount: Amount): unknown {
  const customer: Record<string, string> = {};
  if (request.customer?.email) customer.email = request.customer.email;
  // YooKassa wants the number in E.164 digits only ("79001234567").
  if (request.customer?.phone) customer.phone = request.customer.phone.replace(/\D/g, "");
  if (Object.keys(customer).length === 0) {
    throw new YookassaInvalidRequestError("a receipt needs the customer's email or phone", { parameter: "receipt.customer" });
  }
  return {
    customer,
    items: [
      {
        description: (request.description || "Order").slice(0, 128),
        quantity: "1.00",
        amount,
        vat_code: settings.vatCode,
        payment_subject: settings.paymentSubject ?? "service",
        payment_mode: settings.paymentMode ?? "full_payment",
      },
    ],
  };
}

function samePayment(paymentId: string, payment: Payment): Payment {
  if (payment.id !== paymentId) throw new YookassaBadResponseError(`asked for payment ${paymentId}, got payment ${payment.id}`);
  return payment;
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

function positive(value: number, name: string): number {
  return integerSetting("YookassaClient", name, value, 1);
}

function nonNegative(value: number, name: string): number {
  return integerSetting("YookassaClient", name, value, 0);
}
