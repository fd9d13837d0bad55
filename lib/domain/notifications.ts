/**
 * The vocabulary shared by the users domain (preferences, devices) and the notification
 * service (what is sent, on which channel, to whom).
 */
import type { PushTarget } from "../ports/push/push.port";

export const NOTIFICATION_KINDS = [
  /** The receipt: order, amount, each ticket with its QR code (PDF attached to the e-mail). */
  "order_paid",
  /** The payment was refused/cancelled, or the order expired unpaid. */
  "order_not_paid",
  "refund_done",
  /** To every holder of a valid ticket, with what happens to their money. */
  "event_cancelled",
  /** Date, time or venue changed after tickets were sold. */
  "event_changed",
  /** A configurable time before the start (NOTIFY_REMINDER_BEFORE_MINUTES, default 24 h). */
  "event_reminder",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Kinds about the buyer's money or tickets: at least one channel always stays on for them. */
export const TRANSACTIONAL_KINDS: readonly NotificationKind[] = [
  "order_paid",
  "order_not_paid",
  "refund_done",
  "event_cancelled",
  "event_changed",
];

export const CHANNELS = ["email", "sms", "push"] as const;
export type Channel = (typeof CHANNELS)[number];

export const LOCALES = ["ru", "en"] as const;
export type Locale = (typeof LOCALES)[number];

/** Per kind, which channels are on. */
export type NotificationPreferences = Record<NotificationKind, Record<Channel, boolean>>;

export const DEFAULT_PREFERENCES: NotificationPreferences = {
  order_paid: { email: true, sms: false, push: true },
  order_not_paid: { email: true, sms: false, push: true },
  refund_done: { email: true, sms: false, push: true },
  event_cancelled: { email: true, sms: true, push: true },
  event_changed: { email: true, sms: false, push: true },
  event_reminder: { email: true, sms: false, push: true },
};

export interface PushDevice {
  /** Deterministic: derived from the token or the endpoint, so registering again changes nothing. */
  id: string;
  target: PushTarget;
  /** The client's own label ("Pixel 8", "Firefox on laptop"). */
  label?: string;
  addedAt: number;
}

/** What the users service answers to `users.profile` (the notification service's view of a user). */
export interface UserProfile {
  id: string;
  name: string | null;
  email: string | null;
  /** E.164. */
  phone: string | null;
  locale: Locale | null;
  /** IANA zone, e.g. Europe/Moscow. */
  timeZone: string | null;
  preferences: NotificationPreferences;
  devices: PushDevice[];
  blocked: { reason: string; at: number } | null;
  createdAt: number;
  updatedAt: number;
}

/** The locale of a message: the profile's, else Russian for an event in Russia, else English. */
export function localeFor(profileLocale: Locale | null | undefined, eventCountry: string | null | undefined): Locale {
  if (profileLocale) return profileLocale;
  return eventCountry?.toUpperCase() === "RU" ? "ru" : "en";
}

/** The log of the users context: one stream per user (`user-<sub>`). */
export const USERS_LOG = "users";
/** The log of the notification context: one stream per notification, recording what was sent. */
export const NOTIFICATIONS_LOG = "notifications";
