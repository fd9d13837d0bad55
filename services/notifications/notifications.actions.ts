import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { actorOf, idParam, pagingParams } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import { NOTIFICATION_KINDS, type NotificationKind } from "../../lib/domain/notifications";
import type { EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ownDocsAction, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { notificationDecider } from "./notifications.decider";
import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_STATUSES,
  notificationStream,
  type NotificationDoc,
  type ResendNotification,
} from "./notifications.types";
import type { NotificationsMethods } from "./notifications.service";
import { notificationStats } from "./stats";

type Methods = EventSourcedMethods & ReadModelMethods & NotificationsMethods;
type Self = Service & Methods;

/** What clients see of a notification: never the recipient (it stays in the log). */
export const NOTIFICATION_FIELDS = [
  "id",
  "kind",
  "channel",
  "status",
  "userId",
  "orderId",
  "eventId",
  "attempts",
  "nextAttemptAt",
  "lastError",
  "reason",
  "sentAt",
  "createdAt",
  "updatedAt",
];

interface SearchParams {
  status?: string;
  kind?: NotificationKind;
  orderId?: string;
  channel?: string;
  userId?: string;
  page?: number;
  pageSize?: number;
}

/** The delivery log: the buyer's own, the admins' search, a resend, and the REPL's figures. */
export function notificationActions(): NonNullable<ServiceSchema<ServiceSettingSchema, Methods>["actions"]> {
  return {
    mine: ownDocsAction("-createdAt"),
    search: {
      auth: ["admin"],
      errors: { FORBIDDEN: 403 },
      params: {
        status: { type: "enum", values: [...NOTIFICATION_STATUSES], optional: true },
        kind: { type: "enum", values: [...NOTIFICATION_KINDS], optional: true },
        channel: { type: "enum", values: [...NOTIFICATION_CHANNELS], optional: true },
        orderId: { ...idParam, optional: true },
        userId: { type: "string", min: 1, max: 200, optional: true },
        ...pagingParams(),
        $$strict: "remove",
      },
      handler(this: Self, ctx: AppContext<SearchParams>) {
        const { page, pageSize, ...filters } = ctx.params;
        const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
        return this.queryList(ctx as AppContext, { query, page: page ?? 1, pageSize: pageSize ?? 20, sort: "-createdAt" });
      },
    },
    resend: {
      auth: ["admin"],
      errors: { FORBIDDEN: 403, NOT_FOUND: 404, NOT_RESENDABLE: 409 },
      params: { id: idParam, $$strict: "remove" },
      async handler(this: Self, ctx: AppContext<{ id: string }>) {
        const command: ResendNotification = { type: "ResendNotification", actor: actorOf(ctx), at: Date.now() };
        const result = await this.execute(ctx, notificationDecider, notificationStream(ctx.params.id), command, "resend");
        this.deliver(ctx.params.id);
        return this.readAfterWrite(ctx as AppContext, ctx.params.id, result.commit?.pos);
      },
    },
    /** For the REPL: the backlog, this node's queue and the last hour per channel. */
    stats: {
      visibility: "public",
      handler(this: Self) {
        return notificationStats(this.liveDocs<NotificationDoc>(), this.queueSize(), Date.now());
      },
    },
  };
}
