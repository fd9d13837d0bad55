/**
 * Readers for YooKassa's JSON. Money decisions are taken on what these return, so every field
 * used is checked and a mismatch names the path that broke; fields we do not use are dropped.
 */
import { isRecord, jsonReader } from "../http";
import {
  valueToMinor,
  YookassaBadResponseError,
  type Amount,
  type CancellationDetails,
  type Notification,
  type Payment,
  type PaymentStatus,
  type RedirectConfirmation,
  type Refund,
  type RefundStatus,
} from "./yookassa.port";

const bad = (problem: string) => new YookassaBadResponseError(`unexpected YooKassa answer: ${problem}`);
const read = jsonReader(bad);

const PAYMENT_STATUSES: readonly PaymentStatus[] = ["pending", "waiting_for_capture", "succeeded", "canceled"];
const REFUND_STATUSES: readonly RefundStatus[] = ["pending", "succeeded", "canceled"];

export function parsePayment(json: unknown, path = "payment"): Payment {
  const raw = read.record(json, path);
  const payment: Payment = {
    id: read.string(raw.id, `${path}.id`),
    status: oneOf(raw.status, PAYMENT_STATUSES, `${path}.status`),
    paid: boolean(raw.paid, `${path}.paid`),
    amount: parseAmount(raw.amount, `${path}.amount`),
    created_at: timestamp(raw.created_at, `${path}.created_at`),
    metadata: metadata(raw.metadata, `${path}.metadata`),
    test: boolean(raw.test, `${path}.test`),
  };
  const description = read.optionalString(raw.description, `${path}.description`);
  const expiresAt = optionalTimestamp(raw.expires_at, `${path}.expires_at`);
  const capturedAt = optionalTimestamp(raw.captured_at, `${path}.captured_at`);
  const confirmation = redirectConfirmation(raw.confirmation, `${path}.confirmation`);
  if (description !== undefined) payment.description = description;
  if (expiresAt !== undefined) payment.expires_at = expiresAt;
  if (capturedAt !== undefined) payment.captured_at = capturedAt;
  if (confirmation !== undefined) payment.confirmation = confirmation;
  if (raw.cancellation_details !== undefined && raw.cancellation_details !== null) {
    payment.cancellation_details = cancellationDetails(raw.cancellation_details, `${path}.cancellation_details`);
  }
  if (raw.refunded_amount !== undefined && raw.refunded_amount !== null) {
    payment.refunded_amount = parseAmount(raw.refunded_amount, `${path}.refunded_amount`);
  }
  return payment;
}

export function parseRefund(json: unknown, path = "refund"): Refund {
  const raw = read.record(json, path);
  const refund: Refund = {
    id: read.string(raw.id, `${path}.id`),
    payment_id: read.string(raw.payment_id, `${path}.payment_id`),
    status: oneOf(raw.status, REFUND_STATUSES, `${path}.status`),
    amount: parseAmount(raw.amount, `${path}.amount`),
    created_at: timestamp(raw.created_at, `${path}.created_at`),
  };
  const description = read.optionalString(raw.description, `${path}.description`);
  if (description !== undefined) refund.description = description;
  return refund;
}

/** A webhook body; its `object` is only a hint until fetched again (webhooks are unsigned). */
export function parseNotification(json: unknown): Notification {
  const raw = read.record(json, "notification");
  if (raw.type !== "notification") throw bad('notification.type is not "notification"');
  const event = read.string(raw.event, "notification.event");
  switch (event) {
    case "payment.waiting_for_capture":
    case "payment.succeeded":
    case "payment.canceled":
      return { type: "notification", event, object: parsePayment(raw.object, "notification.object") };
    case "refund.succeeded":
      return { type: "notification", event, object: parseRefund(raw.object, "notification.object") };
    default:
      throw bad(`notification.event ${JSON.stringify(event.slice(0, 64))} is not one we subscribe to`);
  }
}

/** The fields of `{type: "error", id, code, description, parameter?, retry_after?}` that are present and well-formed. */
export interface ApiErrorBody {
  id?: string;
  code?: string;
  description?: string;
  parameter?: string;
  /** `retry_after` is in milliseconds. */
  retryAfterMs?: number;
}

/** Never throws: an error answer from a proxy or a load balancer is not in YooKassa's format at all. */
export function parseErrorBody(json: unknown): ApiErrorBody {
  if (!isRecord(json)) return {};
  const body: ApiErrorBody = {};
  for (const key of ["id", "code", "description", "parameter"] as const) {
    const value = json[key];
    if (typeof value === "string") body[key] = value;
  }
  const retryAfter = json.retry_after;
  if (typeof retryAfter === "number" && Number.isFinite(retryAfter) && retryAfter >= 0) body.retryAfterMs = retryAfter;
  return body;
}

export function parseAmount(json: unknown, path: string): Amount {
  const raw = read.record(json, path);
  const value = read.string(raw.value, `${path}.value`);
  const currency = read.string(raw.currency, `${path}.currency`);
  try {
    valueToMinor(value);
  } catch {
    throw bad(`${path}.value ${JSON.stringify(value.slice(0, 32))} is not a non-negative amount with two decimals`);
  }
  if (!/^[A-Z]{3}$/.test(currency)) throw bad(`${path}.currency is not an ISO 4217 code`);
  return { value, currency };
}

function redirectConfirmation(json: unknown, path: string): RedirectConfirmation | undefined {
  if (json === undefined || json === null) return undefined;
  const raw = read.record(json, path);
  if (raw.type !== "redirect") return undefined;
  const confirmation: RedirectConfirmation = {
    type: "redirect",
    confirmation_url: read.string(raw.confirmation_url, `${path}.confirmation_url`),
  };
  const returnUrl = read.optionalString(raw.return_url, `${path}.return_url`);
  if (returnUrl !== undefined) confirmation.return_url = returnUrl;
  return confirmation;
}

function cancellationDetails(json: unknown, path: string): CancellationDetails {
  const raw = read.record(json, path);
  return { party: read.string(raw.party, `${path}.party`), reason: read.string(raw.reason, `${path}.reason`) };
}

function metadata(json: unknown, path: string): Record<string, string> {
  if (json === undefined || json === null) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(read.record(json, path))) out[key] = read.string(value, `${path}.${key}`);
  return out;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw bad(`${path} is not a boolean`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw bad(`${path} is not one of ${allowed.join(", ")}`);
  return found;
}

function timestamp(value: unknown, path: string): string {
  const text = read.string(value, path);
  if (Number.isNaN(Date.parse(text))) throw bad(`${path} is not a timestamp`);
  return text;
}

function optionalTimestamp(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : timestamp(value, path);
}
