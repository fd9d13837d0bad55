import type { UserProfile } from "../../lib/domain/notifications";
import type { CatalogueEvent } from "../events/events.types";
import type { Order, OrderEvent } from "../orders/orders.types";
import type { KindParams } from "./notifications.types";
import { hasValidTicket, requestsFor, type Planned } from "./recipients";
import type { NotificationTrigger } from "./triggers";

/** What a trigger asks for: a notification about one order, or a change to tell every holder of an event about. */
export type Intent =
  { type: "order"; orderId: string; params: KindParams } | { type: "event_changed"; eventId: string; data: EventChange } | null;

type EventChange = { id: string; startsAt?: number; timezone?: string; venue?: { id: string } };
type Data<T extends OrderEvent["type"]> = Extract<OrderEvent, { type: T }>["data"];

/** What the planner reads: the write side of orders and events, and the buyer's profile. */
export interface PlannerSources {
  order(id: string): Promise<Order | null>;
  /** The event as it was before log position `pos` (the state a change is compared with). */
  eventBefore(eventId: string, pos: number): Promise<CatalogueEvent | null>;
  /** Orders of the event that may hold valid tickets (each is checked on its own stream). */
  ordersOfEvent(eventId: string): Promise<string[]>;
  profile(userId: string): Promise<UserProfile | null>;
}

/**
 * The kind of message a log event calls for. A customer's own cancellation calls for none
 * (they did it); a lost hold is, to the buyer, a payment that did not go through and was
 * not taken. A refund whose id starts with "cx-" is the full refund of an event
 * cancellation (services/orders/refunds.ts): the cancellation notice says it.
 */
export function intentOf(trigger: NotificationTrigger): Intent {
  const order = (orderId: string, params: KindParams): Intent => ({ type: "order", orderId, params });
  switch (trigger.type) {
    case "TicketsIssued":
      return order((trigger.data as Data<"TicketsIssued">).id, { kind: "order_paid" });
    case "OrderExpired":
      return order((trigger.data as Data<"OrderExpired">).id, { kind: "order_not_paid", reason: "expired" });
    case "OrderCancelled": {
      const { id, reason } = trigger.data as Data<"OrderCancelled">;
      if (reason === "event_cancelled") return order(id, { kind: "event_cancelled", money: "not_charged" });
      if (reason === "payment_failed" || reason === "hold_lost")
        return order(id, { kind: "order_not_paid", reason: "payment_failed" });
      return null;
    }
    case "TicketsRefunded": {
      const data = trigger.data as Data<"TicketsRefunded">;
      if (data.refundId.startsWith("cx-")) return order(data.id, { kind: "event_cancelled", money: "refunded" });
      return order(data.id, {
        kind: "refund_done",
        refund: { id: data.refundId, amount: data.amount, currency: data.currency, ticketIds: data.ticketIds },
      });
    }
    case "EventUpdated": {
      const data = trigger.data as EventChange;
      if (data.startsAt === undefined && data.timezone === undefined && data.venue === undefined) return null;
      return { type: "event_changed", eventId: data.id, data };
    }
    default:
      return null;
  }
}

/** Which of date, zone and venue really changed; null when none did (e.g. set to the same value). */
export function changeOf(before: CatalogueEvent, after: EventChange): string | null {
  const changed: string[] = [];
  if (after.startsAt !== undefined && after.startsAt !== before.startsAt) changed.push("startsAt");
  if (after.timezone !== undefined && after.timezone !== before.timezone) changed.push("timezone");
  if (after.venue !== undefined && after.venue.id !== before.venue.id) changed.push("venue");
  return changed.length ? changed.join(",") : null;
}

/**
 * The notifications a log event calls for, ready to be recorded. Pure apart from the
 * reads: asking twice gives the same ids, so recording them again changes nothing.
 */
export async function planTrigger(trigger: NotificationTrigger, sources: PlannerSources): Promise<Planned[]> {
  const intent = intentOf(trigger);
  if (!intent) return [];
  if (intent.type === "order") {
    const order = await sources.order(intent.orderId);
    if (!order || order.source) return [];
    return requestsFor(order, await sources.profile(order.userId), intent.params, trigger.eventId);
  }
  const before = await sources.eventBefore(intent.eventId, trigger.pos);
  // An event that sold nothing yet (or a change to its draft) has nobody to tell.
  const change = before && changeOf(before, intent.data);
  if (!before || !change) return [];
  const params: KindParams = {
    kind: "event_changed",
    change,
    before: {
      startsAt: before.startsAt,
      timezone: before.timezone,
      venue: { name: before.venue.name, address: before.venue.address, city: before.venue.city },
    },
  };
  const planned: Planned[] = [];
  for (const orderId of await sources.ordersOfEvent(intent.eventId)) {
    const order = await sources.order(orderId);
    if (!order || order.source || !hasValidTicket(order)) continue;
    planned.push(...requestsFor(order, await sources.profile(order.userId), params, trigger.eventId));
  }
  return planned;
}
