import { DEFAULT_PREFERENCES, type Channel, type NotificationKind, type UserProfile } from "../../lib/domain/notifications";
import type { Order } from "../orders/orders.types";
import { notificationId, subjectOf, type KindParams, type NotificationRequest } from "./notifications.types";

/** A request as the planner makes it: recorded as skipped at once when `skip` says why. */
export interface Planned {
  request: NotificationRequest;
  skip?: string;
}

export const NO_CHANNEL = "no usable channel";

/**
 * Where a kind goes for this buyer: the channels the profile's preferences switch on (the
 * defaults without a profile); e-mail and SMS to the contact data the order was placed with,
 * push to each of the profile's devices.
 */
export function targetsOf(
  order: Pick<Order, "customer">,
  profile: UserProfile | null,
  kind: NotificationKind,
): Array<{ channel: Channel; recipient: string }> {
  const on = (profile?.preferences ?? DEFAULT_PREFERENCES)[kind];
  const targets: Array<{ channel: Channel; recipient: string }> = [];
  if (on.email && order.customer.email) targets.push({ channel: "email", recipient: order.customer.email });
  if (on.sms && order.customer.phone) targets.push({ channel: "sms", recipient: order.customer.phone });
  if (on.push) for (const device of profile?.devices ?? []) targets.push({ channel: "push", recipient: device.id });
  return targets;
}

/**
 * The notifications of one kind about one order. An imported order gets none: the partner
 * that sold its tickets notifies its own buyers. A kind with no usable channel is still
 * recorded (channel "none", skipped) so the delivery log shows why nothing went out.
 */
export function requestsFor(
  order: Pick<Order, "id" | "eventId" | "userId" | "customer" | "source">,
  profile: UserProfile | null,
  params: KindParams,
  cause: string,
): Planned[] {
  if (order.source) return [];
  const base = { kind: params.kind, orderId: order.id, eventId: order.eventId, userId: order.userId, params, cause };
  const subject = subjectOf(base);
  const targets = targetsOf(order, profile, params.kind);
  if (targets.length === 0) {
    const request = { ...base, channel: "none" as const, recipient: "", id: notificationId(params.kind, subject, "", "none") };
    return [{ request, skip: NO_CHANNEL }];
  }
  return targets.map(({ channel, recipient }) => ({
    request: { ...base, channel, recipient, id: notificationId(params.kind, subject, recipient, channel) },
  }));
}

/** Tickets that still admit their holder: who hears about a change, a cancellation, a reminder. */
export function hasValidTicket(order: Pick<Order, "tickets">): boolean {
  return order.tickets.some((t) => t.status === "active");
}
