import type { Root, Type } from "protobufjs";
import type { EventCategory } from "../domain/event-categories";
import {
  PARTNER_CURRENCIES,
  type PartnerCurrency,
  type PartnerCustomer,
  type PartnerEvent,
  type PartnerLegals,
  type PartnerOrder,
  type PartnerOrganizer,
  type PartnerRefund,
  type PartnerTicket,
  type PartnerTicketStatus,
} from "./partner-json";
import { encodeMessage, loadProtoRoot } from "./proto-schema";

/**
 * The partner contract's protobuf format (package vibe.v1, proto/vibe/v1/*.proto): the JSON shapes
 * of partner-json.ts encoded with the contract's field numbers (shared/docs/partner-streams.md).
 * Fields the protobuf shapes do not have (an event's status and group, a venue's id, an order's
 * number, a refund's customer) are not sent; absent optional fields are omitted.
 */

export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

let vibe: Root | undefined;

function vibeType(name: "Organizer" | "Event" | "Order" | "Refund" | "Ticket"): Type {
  vibe ??= loadProtoRoot([
    "vibe/v1/common.proto",
    "vibe/v1/organizer.proto",
    "vibe/v1/event.proto",
    "vibe/v1/order.proto",
    "vibe/v1/refund.proto",
    "vibe/v1/ticket.proto",
  ]);
  return vibe.lookupType(`vibe.v1.${name}`);
}

/** The enum has fewer categories than the JSON list; the others go as OTHER. */
const CATEGORY: Record<EventCategory, string> = {
  ballet: "BALLET",
  business: "BUSINESS",
  circus: "OTHER",
  concert: "CONCERT",
  development: "DEVELOPMENT",
  excursion: "EXCURSION",
  exhibition: "EXHIBITION",
  festival: "FESTIVAL",
  games: "OTHER",
  health: "HEALTH",
  kids: "KIDS",
  movie: "MOVIE",
  museum: "MUSEUM",
  musical: "OTHER",
  party: "PARTY",
  show: "SHOW",
  sport: "SPORT",
  standup: "OTHER",
  test: "TEST",
  theater: "THEATER",
  workshop: "OTHER",
  other: "OTHER",
};

const TICKET_STATUS: Record<PartnerTicketStatus, string> = {
  active: "ACTIVE",
  used: "USED",
  cancelled: "CANCELLED",
  refunded: "REFUNDED",
};

const LEGAL_TYPE: Record<NonNullable<PartnerLegals["type"]>, string> = { ru_lp: "RU_LP", ru_ltd: "RU_LTD", en_ltd: "EN_LTD" };

const CURRENCY = Object.fromEntries(PARTNER_CURRENCIES.map((c) => [c, c])) as Record<PartnerCurrency, string>;

/** The enum value's name for a JSON value; a value outside the table (only possible past the types) throws. */
function enumName<K extends string>(table: Record<K, string>, value: K | undefined, at: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Object.hasOwn(table, value))
    throw new Error(`${at}: ${JSON.stringify(value)} is not one of ${Object.keys(table).join(", ")}`);
  return table[value];
}

export function encodePartnerOrganizer(p: PartnerOrganizer): Buffer {
  const legals = p.legals && { ...p.legals, type: enumName(LEGAL_TYPE, p.legals.type, "Organizer.legals.type") };
  return encodeMessage(vibeType("Organizer"), { id: p.id, name: p.name, legals });
}

export interface PartnerEventProtoOptions {
  /**
   * Event.timezone, a string: the schema has no numeric offset. The relay passes the event's
   * IANA zone; without one, the JSON `offset` (hours at the event's start) is written as
   * "+03:00", so both formats say the same.
   */
  timezone?: string;
}

/** 3 → "+03:00", 5.5 → "+05:30", -3.5 → "-03:30". */
function offsetText(hours: number): string {
  const minutes = Math.round(Math.abs(hours) * 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${hours < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

export function encodePartnerEvent(p: PartnerEvent, options: PartnerEventProtoOptions = {}): Buffer {
  const venue = p.venue && {
    name: p.venue.name,
    address: p.venue.address,
    description: p.venue.description,
    zipcode: p.venue.zipcode,
    city_name: p.venue.city_name,
    lat: p.venue.lat,
    lon: p.venue.lon,
  };
  return encodeMessage(vibeType("Event"), {
    id: p.id,
    name: p.name,
    category: enumName(CATEGORY, p.category as EventCategory, "Event.category"),
    start_at: p.start_at,
    finish_at: p.finish_at,
    organizer_id: p.organizer.id,
    media: p.media,
    timezone: options.timezone ?? offsetText(p.offset),
    description: p.description,
    venue,
  });
}

/** Order's ids that the JSON order leaves to its context. */
export interface PartnerOrderContext {
  eventId: string;
  organizerId: string;
}

function customerName(c: PartnerCustomer): string | undefined {
  return [c.first_name, c.last_name].filter((part) => part).join(" ") || undefined;
}

export function encodePartnerOrder(p: PartnerOrder, ctx: PartnerOrderContext): Buffer {
  const tickets = p.tickets.map((t, i) => {
    // Order.Ticket has no event_id: the order's event must be every ticket's.
    if (t.event_id !== ctx.eventId)
      throw new Error(`Order.tickets[${i}].event_id "${t.event_id}" is not the order's event "${ctx.eventId}"`);
    return {
      id: t.id,
      barcode: t.barcode,
      number: t.number,
      series: t.series,
      row: t.row,
      seat: t.seat,
      category: t.category,
      description: t.description,
      price_nominal: t.price_nominal,
      currency: enumName(CURRENCY, t.currency, `Order.tickets[${i}].currency`),
    };
  });
  return encodeMessage(vibeType("Order"), {
    id: p.id,
    event_id: ctx.eventId,
    organizer_id: ctx.organizerId,
    customer: { email: p.customer.email, phone: p.customer.phone, name: customerName(p.customer) },
    tickets,
  });
}

export function encodePartnerRefund(p: PartnerRefund): Buffer {
  return encodeMessage(vibeType("Refund"), { ticket_ids: p.ticket_ids });
}

export function encodePartnerTicket(p: PartnerTicket): Buffer {
  return encodeMessage(vibeType("Ticket"), {
    ...p,
    status: enumName(TICKET_STATUS, p.status, "Ticket.status"),
    customer: { email: p.customer.email, phone: p.customer.phone, name: p.customer.name },
    currency: enumName(CURRENCY, p.currency, "Ticket.currency"),
  });
}

export interface PartnerProtoBodies {
  organizers: PartnerOrganizer;
  events: PartnerEvent;
  orders: PartnerOrder;
  refunds: PartnerRefund;
  tickets: PartnerTicket;
}

/** The topics the contract has a protobuf schema for. */
export type PartnerProtoKind = keyof PartnerProtoBodies;

/** What some messages need beyond their JSON body: an order's event and organizer, an event's time zone. */
export interface PartnerProtoContext {
  eventId?: string;
  organizerId?: string;
  /** See PartnerEventProtoOptions.timezone. */
  timezone?: string;
}

/** One topic's message in the protobuf format, for a relay that picks the format per partner and topic. */
export function encodePartnerMessage<K extends PartnerProtoKind>(
  kind: K,
  body: PartnerProtoBodies[K],
  context: PartnerProtoContext = {},
): Buffer {
  const kindName: PartnerProtoKind = kind;
  switch (kindName) {
    case "organizers":
      return encodePartnerOrganizer(body as PartnerOrganizer);
    case "events":
      return encodePartnerEvent(body as PartnerEvent, { timezone: context.timezone });
    case "orders": {
      const { eventId, organizerId } = context;
      if (!eventId || !organizerId) throw new Error("Order: the context must give the order's eventId and organizerId");
      return encodePartnerOrder(body as PartnerOrder, { eventId, organizerId });
    }
    case "refunds":
      return encodePartnerRefund(body as PartnerRefund);
    case "tickets":
      return encodePartnerTicket(body as PartnerTicket);
    default:
      throw new Error(`the partner contract has no protobuf schema for "${String(kindName)}" messages`);
  }
}
