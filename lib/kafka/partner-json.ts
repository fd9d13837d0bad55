import { utcOffsetHours } from "../domain/time";
import type { CatalogueEvent, EventStatus } from "../../services/events/events.types";
import type { Organizer } from "../../services/organizers/organizers.types";

/** The partner contract's JSON shapes (shared/docs/partner-streams.md). Optional fields are omitted, never null. */
export interface PartnerLegals {
  name?: string;
  type?: "ru_ltd" | "ru_lp" | "en_ltd";
  inn?: string;
  ogrn?: string;
  address?: string;
}

export interface PartnerOrganizer {
  id: string;
  name: string;
  legals?: PartnerLegals;
}

export interface PartnerEvent {
  id: string;
  group_id?: string;
  name: string;
  status: "active" | "paused" | "finished" | "cancelled";
  category: string;
  start_at?: number;
  finish_at: number;
  /** The UTC offset in hours at the event's start, in its own zone (3, 5.5, -4): a number, as the partner types it. */
  offset: number;
  media?: string;
  description?: string;
  organizer: PartnerOrganizer;
  venue?: {
    id: string;
    name: string;
    address?: string;
    description?: string;
    zipcode?: string;
    city_name?: string;
    lat?: number;
    lon?: number;
  };
}

const STATUS: Record<Exclude<EventStatus, "draft">, PartnerEvent["status"]> = {
  on_sale: "active",
  paused: "paused",
  finished: "finished",
  cancelled: "cancelled",
};

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}

export function partnerOrganizer(organizer: Organizer): PartnerOrganizer {
  return defined({ id: organizer.id, name: organizer.name, legals: organizer.legals && defined({ ...organizer.legals }) });
}

/**
 * Null for a draft: partners only ever see events that went on sale. Null too for an event
 * without dates (only imported open-date events, which are their partner's to publish): the
 * contract requires finish_at.
 */
export function partnerEvent(event: CatalogueEvent, organizer: Organizer | null): PartnerEvent | null {
  if (event.status === "draft" || event.startsAt === null || event.endsAt === null) return null;
  const venue = event.venue;
  return defined({
    id: event.id,
    group_id: event.seriesId,
    name: event.name,
    status: STATUS[event.status],
    category: event.category,
    start_at: event.startsAt,
    finish_at: event.endsAt,
    offset: utcOffsetHours(event.startsAt, event.timezone),
    media: event.mediaUrl,
    description: event.description,
    organizer: organizer ? partnerOrganizer(organizer) : { id: event.organizer.id, name: event.organizer.name },
    venue: defined({
      id: venue.id,
      name: venue.name,
      address: venue.address,
      city_name: venue.city,
      lat: venue.lat,
      lon: venue.lon,
    }),
  });
}

export const PARTNER_CURRENCIES = ["USD", "EUR", "RUB", "GBP", "CNY"] as const;
export type PartnerCurrency = (typeof PARTNER_CURRENCIES)[number];

/** The buyer as the contract shows them: the phone given at purchase, with its country code. */
export interface PartnerCustomer {
  email: string;
  phone: string;
  first_name?: string;
  last_name?: string;
}

/** What the order and ticket-status streams both say about a ticket. */
export interface PartnerTicketFields {
  id: string;
  event_id: string;
  barcode: string;
  number?: string;
  series?: string;
  row?: string;
  seat?: string;
  /** The ticket category's name. */
  category: string;
  description?: string;
  /** Minor units. */
  price_nominal?: number;
  currency?: PartnerCurrency;
}

export type PartnerOrderTicket = PartnerTicketFields;

/** A completed (paid) order with its tickets. */
export interface PartnerOrder {
  id: string;
  number: string;
  customer: PartnerCustomer;
  tickets: PartnerOrderTicket[];
}

export interface PartnerRefund {
  customer: PartnerCustomer;
  ticket_ids: string[];
}

export type PartnerTicketStatus = "active" | "used" | "cancelled" | "refunded";

/** One ticket status change. */
export interface PartnerTicket extends PartnerTicketFields {
  status: PartnerTicketStatus;
  customer: { email: string; phone: string; name?: string };
  organizer_id: string;
  order_id?: string;
}
