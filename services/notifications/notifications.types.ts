import { createHash } from "node:crypto";
import type { Actor } from "../../lib/domain/actor";
import type { Channel, NotificationKind } from "../../lib/domain/notifications";
import type { ReadDoc } from "../../lib/eventlog/projection";
import type { NotificationData } from "./notification-data";

export const NOTIFICATION_STATUSES = ["requested", "sending", "retrying", "sent", "failed", "skipped"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** "none": the kind had no usable channel for this buyer; recorded (skipped) so it is visible. */
export type NotificationChannel = Channel | "none";
export const NOTIFICATION_CHANNELS: readonly NotificationChannel[] = ["email", "sms", "push", "none"];

/** What a kind needs beyond the order and its event, fixed when it was planned. */
export type KindParams =
  | { kind: "order_paid" }
  | { kind: "order_not_paid"; reason: "payment_failed" | "expired" }
  | { kind: "refund_done"; refund: { id: string; amount: number; currency: string; ticketIds: string[] } }
  | { kind: "event_cancelled"; money: "refunded" | "not_charged" }
  | { kind: "event_changed"; change: string; before: Extract<NotificationData, { kind: "event_changed" }>["before"] }
  /** The start it was planned for: a moved event gets a new reminder and this one is skipped. */
  | { kind: "event_reminder"; startsAt: number };

/** One message to one recipient on one channel, as the planner asks for it. */
export interface NotificationRequest {
  id: string;
  kind: NotificationKind;
  channel: NotificationChannel;
  /** E-mail address, E.164 phone or push device id; "" for "none". Never logged. */
  recipient: string;
  orderId: string;
  eventId: string;
  /** The buyer (the order's userId): whose delivery log shows it. */
  userId: string;
  params: KindParams;
  /** The log event that caused it (or "reminder-sweep"). */
  cause: string;
}

export type FailureKind = "transient" | "permanent" | "gone";

export interface NotificationState {
  request: NotificationRequest;
  status: NotificationStatus;
  /** Claims since it was (re)requested: the attempt under way or the last one. */
  attempts: number;
  claim: { owner: string; until: number } | null;
  nextAttemptAt: number | null;
  lastError: { kind: FailureKind; message: string } | null;
  sentAt: number | null;
  providerId: string | null;
  reason: string | null;
  requestedAt: number;
}

export interface RequestNotification {
  type: "RequestNotification";
  request: NotificationRequest;
  /** Recorded as skipped at once (e.g. "no usable channel"). */
  skip?: string;
  at: number;
}

/** Takes the notification for one attempt; a no-op unless it is due and nobody holds it. */
export interface ClaimNotification {
  type: "ClaimNotification";
  owner: string;
  claimMs: number;
  at: number;
}

export interface RecordSent {
  type: "RecordSent";
  providerId?: string;
  at: number;
}

export interface RecordFailure {
  type: "RecordFailure";
  /** The attempt that failed: a late report of an attempt taken over by another node changes nothing. */
  attempt: number;
  failure: FailureKind;
  /** Without personal data: the port's message. */
  error: string;
  /** When a transient failure may be tried again (backoff with jitter, chosen by the caller). */
  retryAt: number;
  maxAttempts: number;
  at: number;
}

export interface SkipNotification {
  type: "SkipNotification";
  reason: string;
  at: number;
}

/** An admin asks for a final one (sent, failed, skipped) to go out again. */
export interface ResendNotification {
  type: "ResendNotification";
  actor: Actor;
  at: number;
}

export type NotificationCommand =
  RequestNotification | ClaimNotification | RecordSent | RecordFailure | SkipNotification | ResendNotification;

export type NotificationEvent =
  | { type: "NotificationRequested"; data: NotificationRequest & { at: number } }
  | { type: "NotificationClaimed"; data: { id: string; owner: string; until: number; attempt: number; at: number } }
  | { type: "NotificationSent"; data: { id: string; providerId?: string; attempt: number; at: number } }
  | {
      type: "NotificationAttemptFailed";
      data: { id: string; failure: FailureKind; error: string; attempt: number; retryAt: number; at: number };
    }
  | { type: "NotificationFailed"; data: { id: string; failure: FailureKind; error: string; attempt: number; at: number } }
  | { type: "NotificationSkipped"; data: { id: string; reason: string; at: number } }
  | { type: "NotificationResendRequested"; data: { id: string; by: string; at: number } };

/** The read model: one document per notification (the recipient stays in the log, out of lists). */
export interface NotificationDoc extends ReadDoc {
  id: string;
  kind: NotificationKind;
  channel: NotificationChannel;
  status: NotificationStatus;
  userId: string;
  orderId: string;
  eventId: string;
  attempts: number;
  nextAttemptAt: number | null;
  claimUntil: number | null;
  lastError: string | null;
  reason: string | null;
  providerId: string | null;
  sentAt: number | null;
  /** For reminders: the start they were planned for. */
  startsAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export function notificationStream(id: string): string {
  return `notification-${id}`;
}

/**
 * Deterministic: the same kind about the same subject to the same recipient on the same
 * channel always has the same id, so a redelivered trigger, a replay or a second node asks
 * for the notification that exists already. 22 characters of base64url (132 bits) after an
 * "n", so it never starts with "-" or "_" (ids in URLs start with a letter or digit).
 */
export function notificationId(kind: NotificationKind, subject: string, recipient: string, channel: NotificationChannel): string {
  return "n" + createHash("sha256").update(`${kind}\n${subject}\n${recipient}\n${channel}`).digest("base64url").slice(0, 22);
}

/** What identifies a notification of its kind, besides recipient and channel (see notificationId). */
export function subjectOf(request: Pick<NotificationRequest, "orderId" | "eventId" | "params" | "cause">): string {
  const { orderId, params } = request;
  switch (params.kind) {
    case "order_paid":
    case "order_not_paid":
      return orderId;
    case "refund_done":
      return `${orderId}:${params.refund.id}`;
    case "event_cancelled":
      // One per order of the cancelled event, whether its money was refunded or never charged.
      return `${orderId}:${request.eventId}`;
    case "event_changed":
      // The EventUpdated log event: every change is news of its own.
      return `${orderId}:${request.cause}`;
    case "event_reminder":
      return `${orderId}:${params.startsAt}`;
  }
}
