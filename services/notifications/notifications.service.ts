import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { SYSTEM } from "../../lib/app/context";
import { periodic, type Periodic } from "../../lib/app/periodic";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { NOTIFICATIONS_LOG } from "../../lib/domain/notifications";
import { EventSourced, type CommandContext, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { SALES_LOG } from "../inventory/inventory.types";
import { sendOn, type ChannelPorts } from "./channels";
import { DeliveryQueue } from "./delivery";
import { gather } from "./gather";
import { notificationActions, NOTIFICATION_FIELDS } from "./notifications.actions";
import { notificationDecider } from "./notifications.decider";
import { notificationsProjection } from "./notifications.projection";
import {
  notificationStream,
  type NotificationCommand,
  type NotificationDoc,
  type NotificationState,
} from "./notifications.types";
import { planTrigger } from "./planner";
import type { Planned } from "./recipients";
import { dueReminders } from "./reminders";
import { startFeedConsumer, stopFeedConsumer, type FeedConsumer } from "./feed-consumer";
import { notificationSources } from "./sources";
import { TRIGGER_TYPES, triggerOf, type NotificationTrigger } from "./triggers";

/** How often a node looks for work the fast path missed (a restart, a retry that came due, a dead node's claim). */
const SWEEP_MS = 2000;
/** Found per sweep at most; the rest waits for the next one. */
const SWEEP_BATCH = 500;
/**
 * Older log events are history, not news: a notification node started for the first time
 * on a log with years of orders does not send their receipts. A node down for less than
 * this catches up on everything.
 */
const MAX_TRIGGER_AGE_MS = 7 * 24 * 3_600_000;
const RECORD_CONCURRENCY = 16;

const SYSTEM_CTX: CommandContext = { meta: { user: SYSTEM }, requestID: null };

export interface NotificationsMethods {
  /** Records the notifications a log event calls for and starts sending them. Idempotent; quick. */
  plan(trigger: NotificationTrigger): Promise<void>;
  /** Records planned requests (a repeat changes nothing) and queues the new ones. */
  recordPlanned(planned: Planned[]): Promise<void>;
  /** Queues a notification for sending on this node (the claim decides whether it goes). */
  deliver(id: string): void;
  /** Notifications waiting or being sent on this node. */
  queueSize(): number;
}

type Self = Service & EventSourcedMethods & ReadModelMethods & NotificationsMethods;

/**
 * Notifications: plans what the sales and catalogue logs call for (from the logs in the
 * quick start, from the internal Kafka topic otherwise), records every notification on its
 * own stream, and sends it once, with retries, by e-mail, SMS or push.
 */
export default function notificationsService(
  rt: Runtime,
  ports: ChannelPorts,
): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods & NotificationsMethods> {
  const config = rt.config.notifications;
  let queue: DeliveryQueue | null = null;
  let sweeps: Periodic[] = [];
  let feed: FeedConsumer | null = null;
  // With Kafka, the consumer group of the internal topic calls plan(); without it, the logs themselves.
  const followLogs = !rt.config.kafka?.connection;

  return {
    name: "notifications",
    mixins: [
      EventSourced(rt, NOTIFICATIONS_LOG),
      ReadModel(rt, {
        projection: notificationsProjection,
        fields: NOTIFICATION_FIELDS,
        sortable: ["createdAt", "updatedAt"],
      }),
      ...(followLogs
        ? [
            Subscription<Self>(rt, {
              name: "notifications.sales",
              log: SALES_LOG,
              types: TRIGGER_TYPES.sales,
              // One order's events in order (its receipt before its refund), other orders side by side.
              partitionBy: byStream,
              concurrency: 16,
              handle(event) {
                return this.plan(triggerOf("sales", event));
              },
            }),
            Subscription<Self>(rt, {
              name: "notifications.catalogue",
              log: CATALOGUE_LOG,
              types: TRIGGER_TYPES.catalogue,
              partitionBy: byStream,
              handle(event) {
                return this.plan(triggerOf("catalogue", event));
              },
            }),
          ]
        : []),
    ],
    actions: {
      ...notificationActions(),
      /** What a browser subscribes to Web Push with; anyone may ask (it is public by design). */
      vapidPublicKey: {
        params: { $$strict: "remove" },
        handler: () => ({ publicKey: ports.push.vapidPublicKey }),
      },
    },
    methods: {
      async plan(this: Self, trigger: NotificationTrigger) {
        if (Date.now() - trigger.at > MAX_TRIGGER_AGE_MS) return;
        const sources = notificationSources(rt, this.broker, () => this.liveDocs<NotificationDoc>());
        await this.recordPlanned(await planTrigger(trigger, sources));
      },
      async recordPlanned(this: Self, planned: Planned[]) {
        for (let i = 0; i < planned.length; i += RECORD_CONCURRENCY) {
          await Promise.all(
            planned.slice(i, i + RECORD_CONCURRENCY).map(async ({ request, skip }) => {
              const command: NotificationCommand = { type: "RequestNotification", request, skip, at: Date.now() };
              const result = await this.execute(
                SYSTEM_CTX,
                notificationDecider,
                notificationStream(request.id),
                command,
                "request",
              );
              if (!result.commit || result.duplicate) return;
              if (skip) rt.metrics.notification(request.kind, request.channel, "skipped");
              else this.deliver(request.id);
            }),
          );
        }
      },
      deliver(id: string) {
        queue?.enqueue(id);
      },
      queueSize() {
        return queue?.size ?? 0;
      },
    },
    started(this: Service) {
      const svc = this as Self;
      const sources = notificationSources(rt, svc.broker, () => svc.liveDocs<NotificationDoc>());
      const run = (id: string, command: NotificationCommand) =>
        svc.execute(SYSTEM_CTX, notificationDecider, notificationStream(id), command, command.type);
      queue = new DeliveryQueue({
        concurrency: config.concurrency,
        maxAttempts: config.maxAttempts,
        retryBaseMs: config.retryBaseMs,
        retryMaxMs: config.retryMaxMs,
        async claim(id): Promise<NotificationState | null> {
          const command = { type: "ClaimNotification", owner: rt.instanceId, claimMs: config.claimMs, at: Date.now() } as const;
          const result = await run(id, command);
          // No commit: not due, or another node (or this one) holds it.
          return result.commit && !result.duplicate ? result.state : null;
        },
        record: async (id, command) => void (await run(id, command)),
        gather: (request) => gather(request, sources, Date.now()),
        send: (request, data, profile) => sendOn(ports, request, data, profile),
        async deviceGone(request) {
          await svc.broker
            .call(
              "users.removeDevice",
              { id: request.userId, deviceId: request.recipient, reason: "gone" },
              { meta: { user: SYSTEM } },
            )
            .catch((err: Error) => svc.logger.warn(`notification ${request.id}: the gone device was not removed: ${err.name}`));
        },
        outcome: (request, outcome) => rt.metrics.notification(request.kind, request.channel, outcome),
        logger: svc.logger,
      });
      const q = queue;
      const warn = (what: string) => (err: unknown) => svc.logger.warn(`${what} failed:`, String(err));
      sweeps = [
        periodic(
          SWEEP_MS,
          async () => {
            // A full queue is busy enough: what it cannot take now, a later sweep finds.
            if (q.size >= config.concurrency * 4) return;
            const now = Date.now();
            const due = await svc.liveDocs<NotificationDoc>().find(
              {
                $or: [
                  { status: "requested" },
                  { status: "retrying", nextAttemptAt: { $lte: now } },
                  { status: "sending", claimUntil: { $lte: now } },
                ],
              },
              { sort: { updatedAt: 1 }, limit: SWEEP_BATCH },
            );
            for (const doc of due) q.enqueue(doc.id);
          },
          warn("notification sweep"),
        ),
        periodic(
          config.reminderSweepMs,
          async () => svc.recordPlanned(await dueReminders(sources, Date.now(), config.reminderBeforeMs)),
          warn("reminder sweep"),
        ),
      ];
      for (const sweep of sweeps) sweep.start();
      if (!followLogs) feed = startFeedConsumer(rt, (trigger) => svc.plan(trigger), svc.logger);
    },
    // The sweeps and the sends under way finish (their outcome recorded) before the store closes.
    async stopped() {
      // No new triggers first: what the group has not committed goes to another node.
      if (feed) await stopFeedConsumer(rt, feed);
      feed = null;
      await Promise.all(sweeps.map((s) => s.stop()));
      await queue?.stop();
      // After the sends under way: their PDFs are made on these threads.
      await ports.close?.();
    },
  };
}
