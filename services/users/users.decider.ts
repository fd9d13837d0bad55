import { forbidden, isAdmin, notFound, requireAdmin, type Actor } from "../../lib/domain/actor";
import { DEFAULT_PREFERENCES } from "../../lib/domain/notifications";
import { compact, deepEqual } from "../../lib/domain/objects";
import type { Decider } from "../../lib/eventlog/decider";
import * as fields from "./users.fields";
import { DEVICES_MAX, rejected } from "./users.fields";
import type {
  AddDevice,
  BlockUser,
  DeviceView,
  ProfileUpdated,
  RegisterUser,
  RemoveDevice,
  UnblockUser,
  UpdateProfile,
  User,
  UserCommand,
  UserEvent,
  UserState,
} from "./users.types";

const REASON_MAX = 500;

/** A user acts on their own profile; admins (and the system, which acts as one) on any. */
function requireSelf(actor: Actor, id: string): void {
  if (actor.sub !== id && !isAdmin(actor)) throw forbidden("a profile may be changed by its user or an admin only");
}

function existing(state: UserState, id: string): User {
  if (!state) throw notFound("user", id);
  return state;
}

/** Registering again (a second first call, another node's) changes nothing. */
function decideRegister(command: RegisterUser, state: UserState): UserEvent[] {
  requireSelf(command.actor, command.id);
  if (state) return [];
  const name = fields.fromClaim(command.name, (v) => fields.name(v));
  const email = fields.fromClaim(command.email, (v) => fields.email(v));
  return [{ type: "UserRegistered", data: { id: command.id, name, email, at: command.at } }];
}

function decideUpdate(command: UpdateProfile, state: UserState): UserEvent[] {
  requireSelf(command.actor, command.id);
  const user = existing(state, command.id);
  const checked = <T>(value: T | null | undefined, check: (v: T) => T): T | null | undefined =>
    value === undefined || value === null ? value : check(value);
  const next = {
    name: checked(command.name, (v) => fields.name(v)),
    email: checked(command.email, (v) => fields.email(v)),
    phone: checked(command.phone, (v) => fields.phone(v)),
    locale: checked(command.locale, (v) => fields.locale(v)),
    timeZone: checked(command.timeZone, (v) => fields.timeZone(v)),
    preferences: command.preferences == null ? undefined : fields.mergePreferences(user.preferences, command.preferences),
  };
  const changes = compact(
    Object.fromEntries(
      Object.entries(next).map(([key, value]) => [key, deepEqual(value, user[key as keyof typeof next]) ? undefined : value]),
    ),
  ) as Omit<ProfileUpdated["data"], "id" | "at">;
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "ProfileUpdated", data: { id: user.id, ...changes, at: command.at } }];
}

function decideAddDevice(command: AddDevice, state: UserState): UserEvent[] {
  requireSelf(command.actor, command.id);
  const user = existing(state, command.id);
  const device = fields.device(command.device, command.at);
  const known = user.devices.find((d) => d.id === device.id);
  if (known && deepEqual(known.target, device.target) && known.label === device.label) return [];
  if (!known && user.devices.length >= DEVICES_MAX) throw rejected("devices", `at most ${DEVICES_MAX} devices; remove one first`);
  // A known device keeps the time it was first added.
  return [
    { type: "DeviceAdded", data: { id: user.id, device: { ...device, addedAt: known?.addedAt ?? command.at }, at: command.at } },
  ];
}

/** Removing a device that is not there (removed already, or never added) changes nothing. */
function decideRemoveDevice(command: RemoveDevice, state: UserState): UserEvent[] {
  // Only the notification service (acting as the system) reports a device gone.
  if (command.reason === "gone") requireAdmin(command.actor, "report a device gone");
  else requireSelf(command.actor, command.id);
  const user = existing(state, command.id);
  if (!user.devices.some((d) => d.id === command.deviceId)) return [];
  return [{ type: "DeviceRemoved", data: { id: user.id, deviceId: command.deviceId, reason: command.reason, at: command.at } }];
}

function decideBlock(command: BlockUser, state: UserState): UserEvent[] {
  requireAdmin(command.actor, "block a user");
  const user = existing(state, command.id);
  const reason = command.reason.trim();
  if (reason.length < 1 || reason.length > REASON_MAX) throw rejected("reason", `must be 1 to ${REASON_MAX} characters`);
  if (user.blocked?.reason === reason) return [];
  return [{ type: "UserBlocked", data: { id: user.id, reason, at: command.at } }];
}

function decideUnblock(command: UnblockUser, state: UserState): UserEvent[] {
  requireAdmin(command.actor, "unblock a user");
  const user = existing(state, command.id);
  if (!user.blocked) return [];
  return [{ type: "UserUnblocked", data: { id: user.id, at: command.at } }];
}

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  initialState: () => null,
  decide: (command, state) => {
    switch (command.type) {
      case "RegisterUser":
        return decideRegister(command, state);
      case "UpdateProfile":
        return decideUpdate(command, state);
      case "AddDevice":
        return decideAddDevice(command, state);
      case "RemoveDevice":
        return decideRemoveDevice(command, state);
      case "BlockUser":
        return decideBlock(command, state);
      case "UnblockUser":
        return decideUnblock(command, state);
    }
  },
  evolve: (state, event) => {
    if (event.type === "UserRegistered") return registeredUser(event.data);
    if (!state) throw new Error(`user stream has ${event.type} before its registration`);
    return { ...applyChange(state, event), updatedAt: event.data.at };
  },
};

function applyChange(user: User, event: Exclude<UserEvent, { type: "UserRegistered" }>): User {
  switch (event.type) {
    case "ProfileUpdated": {
      const { id: _id, at: _at, ...changes } = event.data;
      return { ...user, ...changes };
    }
    case "DeviceAdded":
      return { ...user, devices: [...user.devices.filter((d) => d.id !== event.data.device.id), event.data.device] };
    case "DeviceRemoved":
      return { ...user, devices: user.devices.filter((d) => d.id !== event.data.deviceId) };
    case "UserBlocked":
      return { ...user, blocked: { reason: event.data.reason, at: event.data.at } };
    case "UserUnblocked":
      return { ...user, blocked: null };
  }
}

/** A profile as registration makes it: contact data from the token, everything else to be filled in. */
export function registeredUser({ id, name, email, at }: Extract<UserEvent, { type: "UserRegistered" }>["data"]): User {
  return {
    id,
    name,
    email,
    phone: null,
    locale: null,
    timeZone: null,
    // A copy per user (one level deep is all it has): structuredClone cost more than the rest of the user.
    preferences: Object.fromEntries(
      Object.entries(DEFAULT_PREFERENCES).map(([kind, channels]) => [kind, { ...channels }]),
    ) as User["preferences"],
    devices: [],
    blocked: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** Devices as their user and admins see them: never the token or the keys. */
export function deviceViews(user: Pick<User, "devices">): DeviceView[] {
  return user.devices.map((d) => compact({ id: d.id, kind: d.target.kind, label: d.label, addedAt: d.addedAt }));
}

/** The profile as its user and admins read it. */
export function profileView(user: User): Omit<User, "devices"> & { devices: DeviceView[] } {
  return { ...user, devices: deviceViews(user) };
}
