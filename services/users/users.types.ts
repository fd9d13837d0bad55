import type { CommandBase } from "../../lib/domain/actor";
import type { Locale, NotificationKind, NotificationPreferences, PushDevice, UserProfile } from "../../lib/domain/notifications";
import type { Channel } from "../../lib/domain/notifications";
import type { ReadDoc } from "../../lib/eventlog/projection";

/** The aggregate of one identity: the profile the notification service reads (`users.profile`). */
export type User = UserProfile;

/** null until the first authenticated call registers the user. */
export type UserState = User | null;

/** Per kind, the channels to change: absent kinds and channels stay as they are. */
export type PreferencesPatch = Partial<Record<NotificationKind, Partial<Record<Channel, boolean>>>>;

/** A device as a client registers it: an FCM registration token or a browser's Web Push subscription. */
export type DeviceInput =
  | { fcmToken: string; label?: string }
  | { webPush: { endpoint: string; keys: { p256dh: string; auth: string } }; label?: string };

export const DEVICE_REMOVAL_REASONS = ["user", "gone"] as const;
/** `user`: the user removed it; `gone`: the push service said it no longer exists. */
export type DeviceRemovalReason = (typeof DEVICE_REMOVAL_REASONS)[number];

/** From the token's claims, on the first authenticated call; claims that do not validate are left out. */
export interface RegisterUser extends CommandBase {
  type: "RegisterUser";
  id: string;
  name?: string;
  email?: string;
}

/** The profile's own fields as a change names them: absent stays as it is, null clears it. */
interface ProfileFields {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  locale?: Locale | null;
  timeZone?: string | null;
}

export interface UpdateProfile extends CommandBase, ProfileFields {
  type: "UpdateProfile";
  id: string;
  preferences?: PreferencesPatch;
}

export interface AddDevice extends CommandBase {
  type: "AddDevice";
  id: string;
  device: DeviceInput;
}

export interface RemoveDevice extends CommandBase {
  type: "RemoveDevice";
  id: string;
  deviceId: string;
  reason: DeviceRemovalReason;
}

export interface BlockUser extends CommandBase {
  type: "BlockUser";
  id: string;
  reason: string;
}

export interface UnblockUser extends CommandBase {
  type: "UnblockUser";
  id: string;
}

export type UserCommand = RegisterUser | UpdateProfile | AddDevice | RemoveDevice | BlockUser | UnblockUser;

/** Every event carries its time (`at`): the profile shows when it was created and last changed. */
export interface UserRegistered {
  type: "UserRegistered";
  data: { id: string; name: string | null; email: string | null; at: number };
}

/** The changed fields only; `preferences` is the whole map after the change. */
export interface ProfileUpdated {
  type: "ProfileUpdated";
  data: ProfileFields & { id: string; preferences?: NotificationPreferences; at: number };
}

/** A new device, or a known one (same id) whose keys or label changed: it replaces the old. */
export interface DeviceAdded {
  type: "DeviceAdded";
  data: { id: string; device: PushDevice; at: number };
}

export interface DeviceRemoved {
  type: "DeviceRemoved";
  data: { id: string; deviceId: string; reason: DeviceRemovalReason; at: number };
}

export interface UserBlocked {
  type: "UserBlocked";
  data: { id: string; reason: string; at: number };
}

export interface UserUnblocked {
  type: "UserUnblocked";
  data: { id: string; at: number };
}

export type UserEvent = UserRegistered | ProfileUpdated | DeviceAdded | DeviceRemoved | UserBlocked | UserUnblocked;

/** A device as clients see it: its kind and label, never the token or keys. */
export interface DeviceView {
  id: string;
  kind: PushDevice["target"]["kind"];
  label?: string;
  addedAt: number;
}

/** The read model: the profile without device secrets, plus a search key for admins. */
export interface UserDoc extends ReadDoc, Omit<User, "devices"> {
  devices: DeviceView[];
  /** Name, e-mail and phone in lower case, for the admins' substring search. */
  search: string;
}

export function userStream(id: string): string {
  return `user-${id}`;
}
