import { idParam, pagingParams } from "../../lib/app/actions";
import { CHANNELS, LOCALES, NOTIFICATION_KINDS } from "../../lib/domain/notifications";
import { DEVICE_REMOVAL_REASONS } from "./users.types";

/**
 * The parameters of the users actions (fastest-validator). They check shapes and sizes; the
 * decider checks meaning (an E.164 phone, an IANA zone...) and names the field it refuses.
 */

const channels = {
  type: "object",
  strict: true,
  optional: true,
  props: Object.fromEntries(CHANNELS.map((c) => [c, { type: "boolean", optional: true }])),
};

export const updateMeParams = {
  name: { type: "string", max: 200, optional: true, nullable: true },
  email: { type: "string", max: 254, optional: true, nullable: true },
  phone: { type: "string", max: 32, optional: true, nullable: true },
  locale: { type: "enum", values: [...LOCALES], optional: true, nullable: true },
  timeZone: { type: "string", max: 64, optional: true, nullable: true },
  preferences: {
    type: "object",
    strict: true,
    optional: true,
    props: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, channels])),
  },
  $$strict: true,
};

export const addDeviceParams = {
  fcmToken: { type: "string", max: 4096, optional: true },
  webPush: {
    type: "object",
    strict: true,
    optional: true,
    props: {
      endpoint: { type: "string", max: 2000 },
      keys: {
        type: "object",
        strict: true,
        props: { p256dh: { type: "string", max: 200 }, auth: { type: "string", max: 100 } },
      },
    },
  },
  label: { type: "string", max: 100, optional: true },
  $$strict: true,
};

export const deviceIdParams = { id: idParam, $$strict: true };

export const searchParams = {
  q: { type: "string", min: 1, max: 100, optional: true },
  ...pagingParams(),
  $$strict: true,
};

export const userIdParams = { id: idParam, $$strict: true };

export const blockParams = { id: idParam, reason: { type: "string", min: 1, max: 500 }, $$strict: true };

/** Internal: the gateway, on a subject's first authenticated call, with what the token says. */
export const ensureParams = {
  id: { type: "string", min: 1, max: 200 },
  name: { type: "string", optional: true },
  email: { type: "string", optional: true },
};

/** Internal: the notification service, for a device the push service reported gone. */
export const removeDeviceParams = {
  id: { type: "string", min: 1, max: 200 },
  deviceId: { type: "string", min: 1, max: 64 },
  reason: { type: "enum", values: [...DEVICE_REMOVAL_REASONS] },
};
