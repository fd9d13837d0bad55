import type { UserProfile } from "../../lib/domain/notifications";
import type { Order } from "../orders/orders.types";
import { hasValidTicket, requestsFor, type Planned } from "./recipients";

export interface UpcomingEvent {
  id: string;
  startsAt: number;
}

export interface ReminderSources {
  /** Events not cancelled or finished that start in (now, now + before]. */
  upcoming(now: number, beforeMs: number): Promise<UpcomingEvent[]>;
  /** Orders whose reminder for this start is recorded already (a shortcut: recording again would change nothing). */
  reminded(eventId: string, startsAt: number): Promise<Set<string>>;
  ordersOfEvent(eventId: string): Promise<string[]>;
  order(id: string): Promise<Order | null>;
  profile(userId: string): Promise<UserProfile | null>;
}

/**
 * The reminders due now, from the state of the catalogue rather than from timers: every
 * order with a valid ticket for an event starting within `beforeMs` gets one (per start:
 * a moved event is reminded again for its new start). A reminder that came due while every
 * node was down is found by the first sweep after, as long as the event has not started.
 */
export async function dueReminders(sources: ReminderSources, now: number, beforeMs: number): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const event of await sources.upcoming(now, beforeMs)) {
    const done = await sources.reminded(event.id, event.startsAt);
    for (const orderId of await sources.ordersOfEvent(event.id)) {
      if (done.has(orderId)) continue;
      const order = await sources.order(orderId);
      if (!order || !hasValidTicket(order)) continue;
      const profile = await sources.profile(order.userId);
      planned.push(...requestsFor(order, profile, { kind: "event_reminder", startsAt: event.startsAt }, `reminder:${event.id}`));
    }
  }
  return planned;
}
