/**
 * Card payments through YooKassa, two-stage: the buyer authorises the amount on YooKassa's page
 * (`waiting_for_capture`), and we capture it once the tickets are issued, or cancel it to release
 * the hold. Field names follow the API (snake_case) so that a payment read here, one fetched with
 * curl and one inside a webhook look the same.
 */
import { PortError } from "../http";

export interface Amount {
  /** Decimal string with two fractional digits, e.g. "1500.00": never a float. */
  value: string;
  /** ISO 4217, e.g. "RUB". */
  currency: string;
}

export type PaymentStatus = "pending" | "waiting_for_capture" | "succeeded" | "canceled";

export interface RedirectConfirmation {
  type: "redirect";
  /** Where to send the buyer to pay. */
  confirmation_url: string;
  return_url?: string;
}

export interface CancellationDetails {
  /** Who cancelled: `merchant` (us), `yoo_money`, `payment_network` (the bank or card network). */
  party: string;
  /** e.g. `canceled_by_merchant`, `expired_on_capture`, `expired_on_confirmation`, `insufficient_funds`, `card_expired`. */
  reason: string;
}

export interface Payment {
  id: string;
  status: PaymentStatus;
  /** The buyer has paid: true from `waiting_for_capture` on. */
  paid: boolean;
  /** After a partial capture, the captured amount. */
  amount: Amount;
  description?: string;
  created_at: string;
  /** While `waiting_for_capture`: capture before this or YooKassa cancels the payment. */
  expires_at?: string;
  captured_at?: string;
  /** Only redirect confirmations are read; other kinds are left out. */
  confirmation?: RedirectConfirmation;
  metadata: Record<string, string>;
  cancellation_details?: CancellationDetails;
  refunded_amount?: Amount;
  /** Made in a test shop: no money moved. A test payment in production means a misconfigured key. */
  test: boolean;
}

export type RefundStatus = "pending" | "succeeded" | "canceled";

/**
 * YooKassa's object ids (payments and refunds): 36 characters, lower-case hexadecimal in
 * UUID groups, e.g. `23d93cac-000f-5000-8000-126628f15141` (payments carry `000f` in the
 * second group; the rest varies, so only the shape is checked).
 */
const YOOKASSA_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isYookassaId(value: string): boolean {
  return YOOKASSA_ID.test(value);
}

export interface Refund {
  id: string;
  payment_id: string;
  status: RefundStatus;
  amount: Amount;
  created_at: string;
  description?: string;
}

export type PaymentEvent = "payment.waiting_for_capture" | "payment.succeeded" | "payment.canceled";
export type RefundEvent = "refund.succeeded";
export type NotificationEvent = PaymentEvent | RefundEvent;

/**
 * A webhook body. It is unsigned, so it only says which object to look at: fetch that object
 * with `getPayment`/`getRefund` before acting on it.
 */
export type Notification =
  { type: "notification"; event: PaymentEvent; object: Payment } | { type: "notification"; event: RefundEvent; object: Refund };

// ---------------------------------------------------------------------------------------------
// Requests. Every write carries an idempotence key chosen by the caller: store it with the
// operation before calling, so that a retry after a crash sends the same key and YooKassa
// answers with the first result instead of charging twice.

export interface CustomerContact {
  email?: string;
  phone?: string;
}

export interface CreatePaymentRequest {
  /** Kopecks (or cents): an integer, > 0. */
  amountMinor: number;
  currency: string;
  /** Shown to the buyer; at most 128 characters. */
  description: string;
  /** Where YooKassa sends the buyer back after the payment page. */
  returnUrl: string;
  /** At most 16 keys of at most 32 characters; values at most 512 characters. Comes back in webhooks. */
  metadata: Record<string, string>;
  idempotenceKey: string;
  /** For the fiscal receipt; only sent when the client is configured to send receipts. */
  customer?: CustomerContact;
}

export interface CapturePaymentRequest {
  idempotenceKey: string;
  /** A partial capture; the rest of the hold is released. Absent: the whole amount. */
  amountMinor?: number;
  /** Required with `amountMinor`; must be the payment's currency. */
  currency?: string;
}

export interface CancelPaymentRequest {
  idempotenceKey: string;
}

export interface CreateRefundRequest {
  paymentId: string;
  amountMinor: number;
  currency: string;
  description?: string;
  idempotenceKey: string;
}

export interface PaymentGateway {
  /** Two-stage: the payment stops at `waiting_for_capture` once the buyer pays. */
  createPayment(request: CreatePaymentRequest): Promise<Payment>;
  getPayment(paymentId: string): Promise<Payment>;
  /** Only from `waiting_for_capture`. */
  capturePayment(paymentId: string, request: CapturePaymentRequest): Promise<Payment>;
  cancelPayment(paymentId: string, request: CancelPaymentRequest): Promise<Payment>;
  /** Only for a `succeeded` payment, up to what was captured and not yet refunded. */
  createRefund(request: CreateRefundRequest): Promise<Refund>;
  getRefund(refundId: string): Promise<Refund>;
}

// ---------------------------------------------------------------------------------------------
// Money. Every currency YooKassa accepts has two fractional digits, so minor units are the
// value times 100, computed on digit strings: 0.1 + 0.2 never gets a chance to happen.

/** 150000 → "1500.00". Rejects anything but a non-negative safe integer. */
export function minorToValue(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0)
    throw new RangeError(`amount in minor units must be an integer >= 0, got ${minor}`);
  const digits = String(minor).padStart(3, "0");
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** "1500.00" (or "1500", "1500.5") → 150000. Rejects signs, exponents, a third decimal, and values past 2^53. */
export function valueToMinor(value: string): number {
  const match = /^(0|[1-9]\d*)(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) throw new RangeError(`${JSON.stringify(value)} is not an amount with at most two decimals`);
  const digits = `${match[1]}${(match[2] ?? "").padEnd(2, "0")}`.replace(/^0+(?=\d)/, "");
  const minor = Number(digits);
  // Past 2^53 Number() rounds silently; comparing the digits back catches it.
  if (!Number.isSafeInteger(minor) || String(minor) !== digits) throw new RangeError(`${value} is too large`);
  return minor;
}

export function toAmount(minor: number, currency: string): Amount {
  return { value: minorToValue(minor), currency };
}

export function amountToMinor(amount: Amount): number {
  return valueToMinor(amount.value);
}

// ---------------------------------------------------------------------------------------------
// Errors

export type YookassaErrorCode =
  | "YOOKASSA_INVALID_REQUEST"
  | "YOOKASSA_UNAUTHORIZED"
  | "YOOKASSA_FORBIDDEN"
  | "YOOKASSA_NOT_FOUND"
  | "YOOKASSA_RATE_LIMITED"
  | "YOOKASSA_UNAVAILABLE"
  | "YOOKASSA_BAD_RESPONSE";

export interface YookassaErrorDetails {
  status?: number;
  /** YooKassa's own code, e.g. `invalid_request`, `invalid_credentials`. */
  apiCode?: string;
  /** YooKassa's error id: quote it to their support. */
  errorId?: string;
  cause?: unknown;
}

export class YookassaError extends PortError<YookassaErrorCode> {
  readonly apiCode?: string;
  readonly errorId?: string;

  constructor(code: YookassaErrorCode, message: string, retryable: boolean, details: YookassaErrorDetails = {}) {
    super(code, message, retryable, { status: details.status, cause: details.cause });
    if (details.apiCode !== undefined) this.apiCode = details.apiCode;
    if (details.errorId !== undefined) this.errorId = details.errorId;
  }
}

/** 400, or refused before sending. Retrying the same request will fail the same way. */
export class YookassaInvalidRequestError extends YookassaError {
  /** The offending field as YooKassa names it, e.g. `amount.value`, `Idempotence-Key`. */
  readonly parameter?: string;

  constructor(message: string, details: YookassaErrorDetails & { parameter?: string } = {}) {
    super("YOOKASSA_INVALID_REQUEST", message, false, details);
    if (details.parameter !== undefined) this.parameter = details.parameter;
  }
}

/** 401: wrong shop id or secret key. A configuration problem. */
export class YookassaUnauthorizedError extends YookassaError {
  constructor(message: string, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_UNAUTHORIZED", message, false, { ...details, status: 401 });
  }
}

/** 403: the shop may not do this (e.g. the payment method or refunds are not enabled). */
export class YookassaForbiddenError extends YookassaError {
  constructor(message: string, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_FORBIDDEN", message, false, { ...details, status: 403 });
  }
}

export class YookassaNotFoundError extends YookassaError {
  constructor(message: string, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_NOT_FOUND", message, false, { ...details, status: 404 });
  }
}

/** The object a read returns, or null when YooKassa does not know it (404); other failures are thrown. */
export async function unlessNotFound<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof YookassaError && err.code === "YOOKASSA_NOT_FOUND") return null;
    throw err;
  }
}

/** 429 that outlasted the client's own waiting. */
export class YookassaRateLimitedError extends YookassaError {
  readonly retryAfterMs?: number;

  constructor(message: string, retryAfterMs: number | undefined, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_RATE_LIMITED", message, true, { ...details, status: 429 });
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/**
 * 5xx, still processing (202), timeout or network failure, after the client's own retries.
 * The result is unknown: the operation may have happened. Repeat it with the same idempotence
 * key, or read the object, before concluding anything.
 */
export class YookassaUnavailableError extends YookassaError {
  constructor(message: string, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_UNAVAILABLE", message, true, details);
  }
}

/**
 * The answer does not match the documented contract. After a write the result is as unknown as
 * for YOOKASSA_UNAVAILABLE, but repeating will not fix the answer: read the object instead.
 */
export class YookassaBadResponseError extends YookassaError {
  constructor(message: string, details: YookassaErrorDetails = {}) {
    super("YOOKASSA_BAD_RESPONSE", message, false, details);
  }
}
