import { createHash } from "node:crypto";
import {
  CHANNELS,
  LOCALES,
  type Locale,
  NOTIFICATION_KINDS,
  TRANSACTIONAL_KINDS,
  type NotificationPreferences,
  type PushDevice,
} from "../../lib/domain/notifications";
import { DomainError } from "../../lib/eventlog/decider";
import type { DeviceInput, PreferencesPatch } from "./users.types";
import { isLoopbackHost } from "../../lib/ports/push/push-endpoints";

/**
 * The checks of a profile's fields, pure: the decider runs them on every change. A refusal is a
 * 422 naming the field, so a client can point at the wrong input.
 */

export function rejected(field: string, message: string): DomainError {
  return new DomainError("VALIDATION", `${field}: ${message}`, 422, { field });
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** E.164: a plus, then 8 to 15 digits, the first not a zero. */
const E164 = /^\+[1-9]\d{7,14}$/;
/** Region/City names, UTC, Etc/GMT+3: not "+03:00", which Intl also accepts but is no IANA zone. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

export const NAME_MAX = 200;
export const EMAIL_MAX = 254;
export const DEVICES_MAX = 20;

export function name(value: string, field = "name"): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > NAME_MAX) throw rejected(field, `must be 1 to ${NAME_MAX} characters`);
  return trimmed;
}

export function email(value: string, field = "email"): string {
  const trimmed = value.trim();
  if (trimmed.length > EMAIL_MAX || !EMAIL.test(trimmed)) throw rejected(field, "must be an e-mail address");
  return trimmed;
}

/** Spaces, dashes, dots and brackets people type are dropped: "+7 (900) 123-45-67" is +79001234567. */
export function phone(value: string, field = "phone"): string {
  const compact = value.replace(/[\s\-.()]/g, "");
  if (!E164.test(compact)) throw rejected(field, "must be an international number: + and 8 to 15 digits, e.g. +79001234567");
  return compact;
}

export function locale(value: string, field = "locale"): Locale {
  if (!(LOCALES as readonly string[]).includes(value)) throw rejected(field, `must be one of: ${LOCALES.join(", ")}`);
  return value as Locale;
}

export function timeZone(value: string, field = "timeZone"): string {
  const trimmed = value.trim();
  if (ZONE_NAME.test(trimmed)) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: trimmed });
      return trimmed;
    } catch {
      // Not a zone this runtime knows: refused below.
    }
  }
  throw rejected(field, "must be an IANA time zone, e.g. Europe/Moscow");
}

/** A claim from the token: kept when valid, else left out (the user can set it later). */
export function fromClaim<T>(value: string | null | undefined, check: (v: string) => T): T | null {
  if (value == null) return null;
  try {
    return check(value);
  } catch {
    return null;
  }
}

/** The map after a partial change; a transactional kind left with no channel on is refused. */
export function mergePreferences(current: NotificationPreferences, patch: PreferencesPatch): NotificationPreferences {
  const next = structuredClone(current);
  for (const [kind, channels] of Object.entries(patch)) {
    if (!(NOTIFICATION_KINDS as readonly string[]).includes(kind))
      throw rejected(`preferences.${kind}`, `is not a notification kind; known: ${NOTIFICATION_KINDS.join(", ")}`);
    for (const [channel, on] of Object.entries(channels ?? {})) {
      if (!(CHANNELS as readonly string[]).includes(channel))
        throw rejected(`preferences.${kind}.${channel}`, `is not a channel; known: ${CHANNELS.join(", ")}`);
      // The validator lets an optional field be null: it means "unchanged", like an absent one.
      if (on === null || on === undefined) continue;
      if (typeof on !== "boolean") throw rejected(`preferences.${kind}.${channel}`, "must be true or false");
      next[kind as keyof NotificationPreferences][channel as keyof NotificationPreferences["order_paid"]] = on;
    }
  }
  for (const kind of TRANSACTIONAL_KINDS) {
    if (!CHANNELS.some((channel) => next[kind][channel]))
      throw rejected(`preferences.${kind}`, "is about the buyer's money or tickets: at least one channel must stay on");
  }
  return next;
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const FCM_TOKEN = /^[A-Za-z0-9_:.-]{8,4096}$/;
const ENDPOINT_MAX = 2000;
const LABEL_MAX = 100;

/** The id of a device: the same token or endpoint always gives the same id, so registering again changes nothing. */
export function deviceId(kind: string, key: string): string {
  return createHash("sha256").update(`${kind}\n${key}`).digest("hex").slice(0, 24);
}

function base64url(value: string, field: string, bytes: number): string {
  if (!BASE64URL.test(value) || Buffer.from(value, "base64url").length !== bytes)
    throw rejected(field, `must be ${bytes} bytes in base64url`);
  return value;
}

function endpoint(value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  // Which push services it may name is the service's check (WEBPUSH_ALLOWED_HOSTS).
  const secure = url !== null && (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname)));
  if (!secure || value.length > ENDPOINT_MAX)
    throw rejected("webPush.endpoint", `must be an https URL of at most ${ENDPOINT_MAX} characters`);
  return value;
}

/** The device a registration names, validated; `addedAt` is the command's time. */
export function device(input: DeviceInput, at: number): PushDevice {
  // Null, which the validator lets through for an optional field, counts as absent.
  const label = input.label == null ? undefined : input.label.trim();
  if (label !== undefined && (label.length < 1 || label.length > LABEL_MAX))
    throw rejected("label", `must be 1 to ${LABEL_MAX} characters`);
  const withLabel = (d: PushDevice): PushDevice => (label === undefined ? d : { ...d, label });
  if ("fcmToken" in input && input.fcmToken != null) {
    if ("webPush" in input && input.webPush != null) throw rejected("webPush", "give either fcmToken or webPush, not both");
    if (!FCM_TOKEN.test(input.fcmToken)) throw rejected("fcmToken", "must be an FCM registration token");
    return withLabel({ id: deviceId("fcm", input.fcmToken), target: { kind: "fcm", token: input.fcmToken }, addedAt: at });
  }
  if ("webPush" in input && input.webPush != null) {
    const { keys } = input.webPush;
    const subscription = {
      endpoint: endpoint(input.webPush.endpoint),
      // An uncompressed P-256 public key (65 bytes) and a 16-byte secret (RFC 8291).
      keys: { p256dh: base64url(keys.p256dh, "webPush.keys.p256dh", 65), auth: base64url(keys.auth, "webPush.keys.auth", 16) },
    };
    return withLabel({ id: deviceId("webpush", subscription.endpoint), target: { kind: "webpush", subscription }, addedAt: at });
  }
  throw rejected("fcmToken", "a device needs fcmToken or webPush");
}
