import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { actorOf, created } from "../../lib/app/actions";
import { SYSTEM, type AppContext } from "../../lib/app/context";
import { notFound, toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import type { Principal } from "../../lib/auth/principal";
import { USERS_LOG, type UserProfile } from "../../lib/domain/notifications";
import type { DistributiveOmit } from "../../lib/domain/objects";
import { containing, searchKey } from "../../lib/domain/text";
import { loadAggregate } from "../../lib/eventlog/decider";
import { pushEndpointProblem } from "../../lib/ports/push/push-endpoints";
import { EventSourced, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { deviceViews, profileView, userDecider } from "./users.decider";
import { deviceId, rejected } from "./users.fields";
import {
  addDeviceParams,
  blockParams,
  deviceIdParams,
  ensureParams,
  removeDeviceParams,
  searchParams,
  updateMeParams,
  userIdParams,
} from "./users.params";
import { usersProjection } from "./users.projection";
import {
  userStream,
  type DeviceInput,
  type DeviceRemovalReason,
  type UpdateProfile,
  type User,
  type UserCommand,
  type UserState,
} from "./users.types";

type Self = Service & EventSourcedMethods & ReadModelMethods & UsersMethods;

interface UsersMethods {
  /** The user's profile, registering it from the token's claims if this is its first sight. */
  ownProfile(ctx: AppContext): Promise<User>;
  run(ctx: AppContext, id: string, command: DistributiveOmit<UserCommand, "actor" | "at">, name: string): Promise<UserState>;
}

const USER_FIELDS = [
  "id",
  "name",
  "email",
  "phone",
  "locale",
  "timeZone",
  "preferences",
  "devices",
  "blocked",
  "createdAt",
  "updatedAt",
];

const ERRORS = { VALIDATION: 422, FORBIDDEN: 403, NOT_FOUND: 404 } as const;

/** What a search text is matched as: a phone typed with separators matches the stored E.164. */
function searchPattern(q: string): RegExp {
  return containing(/^[\d\s\-+().]+$/.test(q) ? q.replace(/[\s\-.()]/g, "") : searchKey(q));
}

/** The load of a user from its stream: the write side, never behind (blocks take effect at once). */
function loadUser(rt: Runtime, id: string): Promise<UserState> {
  return loadAggregate(rt.store.log(USERS_LOG), userDecider, userStream(id));
}

/**
 * Users: one profile per identity (the token's subject), created on its first authenticated
 * call; contact data, locale and zone, notification preferences, push devices; blocking by admins.
 */
export default function usersService(
  rt: Runtime,
): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods & UsersMethods> {
  return {
    name: "users",
    mixins: [
      EventSourced(rt, USERS_LOG),
      ReadModel(rt, { projection: usersProjection, fields: USER_FIELDS, sortable: ["createdAt", "updatedAt"] }),
    ],
    methods: {
      async run(this: Self, ctx: AppContext, id: string, command: DistributiveOmit<UserCommand, "actor" | "at">, name: string) {
        const full = { ...command, actor: ctx.meta.user ? actorOf(ctx) : SYSTEM, at: Date.now() } as UserCommand;
        return (await this.execute(ctx, userDecider, userStream(id), full, name)).state;
      },
      async ownProfile(this: Self, ctx: AppContext) {
        const user = ctx.meta.user!;
        const state = (await loadUser(rt, user.sub)) ?? (await this.run(ctx, user.sub, registration(user), "register"));
        return state!;
      },
    },
    actions: {
      list: { visibility: "public" },
      get: { visibility: "public" },
      /** Called by the gateway once per subject and process; registering again changes nothing. */
      ensure: {
        visibility: "public",
        params: ensureParams,
        async handler(this: Self, ctx: AppContext<{ id: string; name?: string; email?: string }>) {
          const { id, name, email } = ctx.params;
          const state = await this.run(ctx, id, { type: "RegisterUser", id, name, email }, "register");
          return { id: state!.id };
        },
      },
      /** The notification service's view of a user (devices with their targets); null when unknown. */
      profile: {
        visibility: "public",
        params: { id: { type: "string", min: 1, max: 200 } },
        handler(ctx: AppContext<{ id: string }>): Promise<UserProfile | null> {
          return loadUser(rt, ctx.params.id);
        },
      },
      removeDevice: {
        visibility: "public",
        params: removeDeviceParams,
        async handler(this: Self, ctx: AppContext<{ id: string; deviceId: string; reason: DeviceRemovalReason }>) {
          const { id, deviceId: removed, reason } = ctx.params;
          const state = await this.run(
            ctx,
            id,
            { type: "RemoveDevice", id, deviceId: removed, reason },
            `remove-device:${removed}`,
          );
          return { id, devices: deviceViews(state!) };
        },
      },
      me: {
        auth: "user",
        params: { $$strict: true },
        async handler(this: Self, ctx: AppContext) {
          return profileView(await this.ownProfile(ctx));
        },
      },
      updateMe: {
        auth: "user",
        errors: ERRORS,
        params: updateMeParams,
        async handler(this: Self, ctx: AppContext<Omit<UpdateProfile, "type" | "id" | "actor" | "at">>) {
          const { id } = await this.ownProfile(ctx as AppContext);
          const state = await this.run(ctx as AppContext, id, { type: "UpdateProfile", id, ...ctx.params }, "update");
          return profileView(state!);
        },
      },
      myDevices: {
        auth: "user",
        params: { $$strict: true },
        async handler(this: Self, ctx: AppContext) {
          const rows = deviceViews(await this.ownProfile(ctx));
          return { rows, total: rows.length, page: 1, pageSize: rows.length, totalPages: rows.length > 0 ? 1 : 0 };
        },
      },
      addDevice: {
        auth: "user",
        errors: ERRORS,
        successStatus: 201,
        params: addDeviceParams,
        async handler(this: Self, ctx: AppContext<DeviceInput>) {
          // A subscription's endpoint is where our nodes will POST: only a known push service.
          if ("webPush" in ctx.params && ctx.params.webPush) {
            const refused = pushEndpointProblem(ctx.params.webPush.endpoint, rt.config.notifications.push.webPushHosts);
            if (refused) throw toMoleculerError(rejected("webPush.endpoint", refused));
          }
          const { id } = await this.ownProfile(ctx as AppContext);
          const state = await this.run(ctx as AppContext, id, { type: "AddDevice", id, device: ctx.params }, "add-device");
          const added = deviceIdOf(ctx.params);
          const view = deviceViews(state!).find((d) => d.id === added)!;
          return created(ctx as AppContext, `/api/me/devices/${view.id}`, view);
        },
      },
      deleteDevice: {
        auth: "user",
        errors: ERRORS,
        params: deviceIdParams,
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const user = await this.ownProfile(ctx as AppContext);
          if (!user.devices.some((d) => d.id === ctx.params.id)) throw notFound("device", ctx.params.id);
          const command = { type: "RemoveDevice" as const, id: user.id, deviceId: ctx.params.id, reason: "user" as const };
          const state = await this.run(ctx as AppContext, user.id, command, `remove-device:${ctx.params.id}`);
          return { id: ctx.params.id, removed: true, devices: deviceViews(state!) };
        },
      },
      search: {
        auth: ["admin"],
        params: searchParams,
        handler(this: Self, ctx: AppContext<{ q?: string; page?: number; pageSize?: number }>) {
          const { q, page, pageSize } = ctx.params;
          return this.queryList(ctx as AppContext, {
            query: q ? { search: searchPattern(q) } : {},
            page: page ?? 1,
            pageSize: pageSize ?? 20,
            sort: "-createdAt",
          });
        },
      },
      show: {
        auth: ["admin"],
        errors: { NOT_FOUND: 404 },
        params: userIdParams,
        async handler(ctx: AppContext<{ id: string }>) {
          const user = await loadUser(rt, ctx.params.id);
          if (!user) throw notFound("user", ctx.params.id);
          const [orders, tickets] = await Promise.all([
            ctx.call<number, { userId: string }>("orders.countForUser", { userId: user.id }),
            ctx.call<number, { userId: string }>("tickets.countForUser", { userId: user.id }),
          ]);
          return { ...profileView(user), orders, tickets };
        },
      },
      block: {
        auth: ["admin"],
        errors: ERRORS,
        params: blockParams,
        async handler(this: Self, ctx: AppContext<{ id: string; reason: string }>) {
          const { id, reason } = ctx.params;
          return profileView((await this.run(ctx as AppContext, id, { type: "BlockUser", id, reason }, "block"))!);
        },
      },
      unblock: {
        auth: ["admin"],
        errors: ERRORS,
        params: userIdParams,
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const { id } = ctx.params;
          return profileView((await this.run(ctx as AppContext, id, { type: "UnblockUser", id }, "unblock"))!);
        },
      },
    },
  };
}

/** The registration a principal's token makes: its name and e-mail claims, when it has them. */
export function registration(user: Principal) {
  return { type: "RegisterUser" as const, id: user.sub, name: user.name, email: user.email };
}

function deviceIdOf(input: DeviceInput): string {
  return "fcmToken" in input && input.fcmToken != null
    ? deviceId("fcm", input.fcmToken)
    : deviceId("webpush", (input as { webPush: { endpoint: string } }).webPush.endpoint);
}
