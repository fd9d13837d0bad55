import type { ServiceBroker } from "moleculer";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import type { UserProfile } from "../../lib/domain/notifications";
import { fold, loadAggregate } from "../../lib/eventlog/decider";
import type { DocCollection } from "../../lib/store/types";
import { eventDecider } from "../events/events.decider";
import { eventStream, type CatalogueEvent } from "../events/events.types";
import { loadOrder } from "../orders/order-commands";
import type { GatherSources } from "./gather";
import type { NotificationDoc } from "./notifications.types";
import type { PlannerSources } from "./planner";
import type { ReminderSources } from "./reminders";

const PAGE = 100;

/**
 * Every page of a read model's `find` (its page size is capped), oldest first. The list
 * only names candidates: each one is then read from its own stream.
 */
async function findAll<T>(broker: ServiceBroker, action: string, query: Record<string, unknown>, fields: string[]) {
  const all: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await broker.call<T[], Record<string, unknown>>(
      action,
      { query, fields, sort: "_id", limit: PAGE, offset },
      { meta: { user: SYSTEM } },
    );
    all.push(...rows);
    if (rows.length < PAGE) return all;
  }
}

/**
 * What planning and sending read. Orders and events come from their streams (the write
 * side never lags behind, and a change is compared with the state just before it); the
 * lists of an event's orders and upcoming events come from those services' read models,
 * the buyer's profile from the users service.
 */
export function notificationSources(
  rt: Runtime,
  broker: ServiceBroker,
  docs: () => DocCollection<NotificationDoc>,
): PlannerSources & GatherSources & ReminderSources {
  const catalogue = () => rt.store.log(CATALOGUE_LOG);
  return {
    order: (id) => loadOrder(rt, id),
    event: (id) => loadAggregate(catalogue(), eventDecider, eventStream(id)),
    async eventBefore(id, pos): Promise<CatalogueEvent | null> {
      const commits = (await catalogue().readStream(eventStream(id))).filter((c) => c.pos < pos);
      return fold(eventDecider, eventDecider.initialState(), commits);
    },
    async ordersOfEvent(eventId) {
      const rows = await findAll<{ id: string }>(
        broker,
        "orders.find",
        { eventId, status: { $in: ["paid", "partially_refunded"] } },
        ["id"],
      );
      return rows.map((r) => r.id);
    },
    async profile(userId) {
      const profile = await broker.call<UserProfile | null, { id: string }>(
        "users.profile",
        { id: userId },
        { meta: { user: SYSTEM } },
      );
      return profile ?? null;
    },
    orderUrl: (orderId) => rt.orderLinks.url(orderId),
    async upcoming(now, beforeMs) {
      return findAll<{ id: string; startsAt: number }>(
        broker,
        "events.find",
        { startsAt: { $gt: now, $lte: now + beforeMs }, status: { $in: ["on_sale", "paused"] } },
        ["id", "startsAt"],
      );
    },
    async reminded(eventId, startsAt) {
      const found = await docs().find({ kind: "event_reminder", eventId, startsAt });
      return new Set(found.map((d) => d.orderId));
    },
  };
}
