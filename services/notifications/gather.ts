import { localeFor, type UserProfile } from "../../lib/domain/notifications";
import type { CatalogueEvent } from "../events/events.types";
import type { Order } from "../orders/orders.types";
import type { EventView, NotificationData, OrderView } from "./notification-data";
import type { NotificationRequest } from "./notifications.types";
import { hasValidTicket } from "./recipients";

/** What the sender reads when it sends, so a message says what is true then. */
export interface GatherSources {
  order(id: string): Promise<Order | null>;
  event(id: string): Promise<CatalogueEvent | null>;
  profile(userId: string): Promise<UserProfile | null>;
  orderUrl(orderId: string): string;
}

export type Gathered = { data: NotificationData; profile: UserProfile | null } | { skip: string };

// Russia's zones: a venue in one of them is in Russia (venues record no country).
const RUSSIAN_ZONES = new Set(
  (
    "Europe/Moscow Europe/Kaliningrad Europe/Samara Europe/Volgograd Europe/Saratov Europe/Ulyanovsk Europe/Astrakhan " +
    "Europe/Kirov Asia/Yekaterinburg Asia/Omsk Asia/Novosibirsk Asia/Barnaul Asia/Tomsk Asia/Novokuznetsk " +
    "Asia/Krasnoyarsk Asia/Irkutsk Asia/Chita Asia/Yakutsk Asia/Khandyga Asia/Vladivostok Asia/Ust-Nera Asia/Magadan " +
    "Asia/Sakhalin Asia/Srednekolymsk Asia/Kamchatka Asia/Anadyr"
  ).split(" "),
);

export function countryOfZone(zone: string): string | null {
  return RUSSIAN_ZONES.has(zone) ? "RU" : null;
}

/**
 * Why a notification should no longer go out, decided at send time: a reminder for an event
 * that was cancelled, moved (it was planned for another start) or has started, or for an
 * order without a valid ticket; a push to a device the user removed.
 */
export function staleReason(
  request: NotificationRequest,
  order: Order,
  event: CatalogueEvent,
  profile: UserProfile | null,
  now: number,
): string | null {
  const params = request.params;
  if (params.kind === "event_reminder") {
    if (event.status === "cancelled") return "event cancelled";
    if (event.startsAt !== params.startsAt) return "event moved";
    if (event.startsAt <= now) return "event started";
    if (!hasValidTicket(order)) return "no valid ticket";
  }
  if (params.kind === "event_changed" && event.status === "cancelled") return "event cancelled";
  if (request.channel === "push" && !profile?.devices.some((d) => d.id === request.recipient)) return "device removed";
  return null;
}

function orderView(order: Order, url: string): OrderView {
  return {
    id: order.id,
    number: order.number,
    amount: order.amount,
    refundedAmount: order.refundedAmount,
    currency: order.currency,
    customer: order.customer,
    tickets: order.tickets.map((t) => ({
      id: t.id,
      barcode: t.barcode,
      categoryName: t.categoryName,
      row: t.row,
      seat: t.seat,
      sector: t.sector,
      price: t.price,
      currency: t.currency,
      status: t.status,
    })),
    url,
  };
}

function eventView(event: CatalogueEvent): EventView {
  return {
    id: event.id,
    name: event.name,
    startsAt: event.startsAt,
    timezone: event.timezone,
    venue: { name: event.venue.name, address: event.venue.address, city: event.venue.city },
    country: countryOfZone(event.venue.timezone),
    cancelReason: event.cancelReason ?? null,
  };
}

/** The message's data: the order, its event and the buyer's language, as they are now. */
export async function gather(request: NotificationRequest, sources: GatherSources, now: number): Promise<Gathered> {
  const order = await sources.order(request.orderId);
  if (!order) return { skip: "order not found" };
  const event = await sources.event(order.eventId);
  if (!event) return { skip: "event not found" };
  const profile = await sources.profile(request.userId);
  const stale = staleReason(request, order, event, profile, now);
  if (stale) return { skip: stale };
  const base = {
    locale: localeFor(profile?.locale, countryOfZone(event.venue.timezone)),
    order: orderView(order, sources.orderUrl(order.id)),
    event: eventView(event),
  };
  const p = request.params;
  const data: NotificationData =
    p.kind === "order_not_paid"
      ? { ...base, kind: p.kind, reason: p.reason }
      : p.kind === "refund_done"
        ? {
            ...base,
            kind: p.kind,
            refund: { amount: p.refund.amount, currency: p.refund.currency, ticketIds: p.refund.ticketIds },
          }
        : p.kind === "event_cancelled"
          ? { ...base, kind: p.kind, money: p.money }
          : p.kind === "event_changed"
            ? { ...base, kind: p.kind, before: p.before }
            : { ...base, kind: p.kind };
  return { data, profile };
}
