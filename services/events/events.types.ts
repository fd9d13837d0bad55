import type { CommandBase } from "../../lib/domain/actor";
import type { EventCategory } from "../../lib/domain/event-categories";
import type { ExternalSource } from "../../lib/domain/external";
import type { Currency } from "../../lib/domain/money";
import type { ReadDoc } from "../../lib/eventlog/projection";
import type { ArtistSnapshot } from "../artists/artists.types";
import type { OrganizerSnapshot } from "../organizers/organizers.types";
import type { VenueSnapshot } from "../venues/venues.types";

export { EVENT_CATEGORIES, type EventCategory } from "../../lib/domain/event-categories";

export const EVENT_STATUSES = ["draft", "on_sale", "paused", "cancelled", "finished"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** General admission (a number of tickets) or reserved seating (the seat ids of the venue). */
export type CategoryAllocation = { kind: "ga"; quota: number } | { kind: "seated"; seats: string[] };

export type TicketCategory = {
  id: string;
  name: string;
  /** Minor units (kopecks, cents). */
  price: number;
  currency: Currency;
} & CategoryAllocation;

/**
 * A partner's ticket category of an imported event: shown, never sold by us (the partner's
 * stream carries no price for it, and its tickets are sold there).
 */
export interface ExternalTicketSet {
  id: string;
  name: string;
  description?: string;
  sector?: string;
  seated: boolean;
  /** Tickets it offers. */
  amount: number;
  /** Its lowest price (minor units) among the partner's price rules, and that price's currency. */
  price?: number;
  currency?: string;
}

export interface CatalogueEvent {
  id: string;
  organizerId: string;
  organizer: OrganizerSnapshot;
  venue: VenueSnapshot;
  /** In billing order: the headliner first. */
  artists: ArtistSnapshot[];
  name: string;
  description?: string;
  category: EventCategory;
  /** Epoch milliseconds; null for an imported open-date event (valid any day: no date is known). */
  startsAt: number | null;
  endsAt: number | null;
  /** IANA zone the dates are shown in; the venue's unless the organizer chose another. */
  timezone: string;
  seriesId?: string;
  mediaUrl?: string;
  status: EventStatus;
  cancelReason?: string;
  categories: TicketCategory[];
  /** Imported events: the partner it comes from, its `updated_at` and its ticket sets (no categories of ours). */
  source?: ExternalSource;
  sourceUpdatedAt?: number;
  ticketSets?: ExternalTicketSet[];
  /** Buyers queue before they may order (services/waiting-room); absent or null: no queue. */
  waitingRoom?: WaitingRoomSettings | null;
}

/** Admissions per second, or "auto": as fast as the sales path sustains (services/waiting-room/rate.ts). */
export type AdmissionRate = number | "auto";

export interface WaitingRoomSettings {
  /** Epoch milliseconds: when the on-sale starts; buyers who join before it are ordered at random. */
  opensAt: number;
  rate: AdmissionRate;
}

export type EventState = CatalogueEvent | null;

/** An artist the service could not find: the decider refuses the command with NOT_FOUND. */
export interface MissingArtist {
  id: string;
  missing: true;
}

/** Tickets sold per category id, from the sales context; an absent id counts as none sold. */
export type SoldCounts = Record<string, number>;

/** A date-time: ISO 8601 with an offset ("2025-06-01T19:00:00+03:00") or epoch milliseconds. */
export type DateTimeInput = string | number;

export interface CreateEvent extends CommandBase {
  type: "CreateEvent";
  id: string;
  organizerId: string;
  /** Loaded by the service from the organizer's stream; null when it does not exist. */
  organizer: OrganizerSnapshot | null;
  venueId: string;
  /** Loaded by the service from the venueId's stream; null when it does not exist. */
  venue: VenueSnapshot | null;
  artists: Array<ArtistSnapshot | MissingArtist>;
  name: string;
  description?: string;
  category: EventCategory;
  startsAt: DateTimeInput;
  endsAt: DateTimeInput;
  /** Defaults to the venue's time zone. */
  timezone?: string;
  seriesId?: string;
  mediaUrl?: string;
}

/**
 * Absent fields stay as they are; null clears an optional one. When the event moves to
 * another venue, its time zone follows the venue's unless `timezone` is given too.
 */
export interface UpdateEvent extends CommandBase {
  type: "UpdateEvent";
  id: string;
  name?: string;
  description?: string | null;
  category?: EventCategory;
  startsAt?: DateTimeInput;
  endsAt?: DateTimeInput;
  timezone?: string;
  /** Moves the event; the service loads `venue` from this venue's stream (null: not found). */
  venueId?: string;
  venue?: VenueSnapshot | null;
  artists?: Array<ArtistSnapshot | MissingArtist>;
  seriesId?: string | null;
  mediaUrl?: string | null;
}

export type AddTicketCategory = CommandBase & {
  type: "AddTicketCategory";
  id: string;
  categoryId: string;
  name: string;
  price: number;
  currency: Currency;
} & CategoryAllocation;

/** `quota` applies to general admission, `seats` (the full new list) to seated categories. */
export interface UpdateTicketCategory extends CommandBase {
  type: "UpdateTicketCategory";
  id: string;
  categoryId: string;
  name?: string;
  price?: number;
  quota?: number;
  seats?: string[];
  sold?: SoldCounts;
}

export interface RemoveTicketCategory extends CommandBase {
  type: "RemoveTicketCategory";
  id: string;
  categoryId: string;
  sold?: SoldCounts;
}

/** Starts sales, or resumes them after a pause. */
export interface PublishEvent extends CommandBase {
  type: "PublishEvent";
  id: string;
}

export interface PauseEvent extends CommandBase {
  type: "PauseEvent";
  id: string;
}

export interface CancelEvent extends CommandBase {
  type: "CancelEvent";
  id: string;
  reason: string;
}

export interface FinishEvent extends CommandBase {
  type: "FinishEvent";
  id: string;
}

/**
 * A partner's event as its stream describes it now (translated to our statuses and ids by the
 * bridge). It is shown in the catalogue and never sold by us: no categories, no inventory.
 */
export interface ImportEvent extends CommandBase {
  type: "ImportEvent";
  id: string;
  source: ExternalSource;
  /** The partner's `updated_at`: an older version arriving late changes nothing. */
  updatedAt?: number;
  organizerId: string;
  /** Loaded by the service from the organizer's stream; null when the organizer has not arrived yet. */
  organizer: OrganizerSnapshot | null;
  name: string;
  description?: string;
  category: EventCategory;
  status: EventStatus;
  /** An open-date event: no start is known (and maybe no finish); its tickets are valid all the same. */
  openDate?: boolean;
  startsAt?: number;
  endsAt?: number;
  timezone: string;
  /** Our id of the partner's venue; the stream names no more of it. */
  venueId?: string;
  /** Our ids of the partner's artists; the stream names no more of them (their names are unknown here). */
  artistIds?: string[];
  seriesId?: string;
  mediaUrl?: string;
  ticketSets: ExternalTicketSet[];
}

/** Turns the event's waiting room on, or changes its start or rate. */
export interface ConfigureWaitingRoom extends CommandBase {
  type: "ConfigureWaitingRoom";
  id: string;
  opensAt: DateTimeInput;
  /** Checked by the decider: an integer 1..10000 or "auto". */
  rate: unknown;
}

export interface RemoveWaitingRoom extends CommandBase {
  type: "RemoveWaitingRoom";
  id: string;
}

export type EventCommand =
  | ImportEvent
  | ConfigureWaitingRoom
  | RemoveWaitingRoom
  | CreateEvent
  | UpdateEvent
  | AddTicketCategory
  | UpdateTicketCategory
  | RemoveTicketCategory
  | PublishEvent
  | PauseEvent
  | CancelEvent
  | FinishEvent;

export interface EventCreated {
  type: "EventCreated";
  data: Omit<CatalogueEvent, "status" | "cancelReason" | "categories">;
}

/** Carries the changed fields only; null means cleared. */
export interface EventUpdated {
  type: "EventUpdated";
  data: {
    id: string;
    name?: string;
    description?: string | null;
    category?: EventCategory;
    startsAt?: number;
    endsAt?: number;
    timezone?: string;
    venue?: VenueSnapshot;
    artists?: ArtistSnapshot[];
    seriesId?: string | null;
    mediaUrl?: string | null;
  };
}

export interface TicketCategoryAdded {
  type: "TicketCategoryAdded";
  data: { id: string; category: TicketCategory };
}

/** Carries the changed fields only; `seats` is the category's whole new seat list. */
export interface TicketCategoryUpdated {
  type: "TicketCategoryUpdated";
  data: { id: string; categoryId: string; name?: string; price?: number; quota?: number; seats?: string[] };
}

export interface TicketCategoryRemoved {
  type: "TicketCategoryRemoved";
  data: { id: string; categoryId: string };
}

export interface EventPublished {
  type: "EventPublished";
  data: { id: string };
}

export interface EventPaused {
  type: "EventPaused";
  data: { id: string };
}

export interface EventCancelled {
  type: "EventCancelled";
  data: { id: string; reason: string };
}

export interface EventFinished {
  type: "EventFinished";
  data: { id: string };
}

export interface WaitingRoomConfigured {
  type: "WaitingRoomConfigured";
  data: { id: string } & WaitingRoomSettings;
}

export interface WaitingRoomRemoved {
  type: "WaitingRoomRemoved";
  data: { id: string };
}

/** The whole imported event, on creation and on every change. */
export interface EventImported {
  type: "EventImported";
  data: CatalogueEvent & { source: ExternalSource };
}

/** Everything appended to an `event-<id>` stream. */
export type EventStreamEvent =
  | EventImported
  | EventCreated
  | EventUpdated
  | TicketCategoryAdded
  | TicketCategoryUpdated
  | TicketCategoryRemoved
  | EventPublished
  | EventPaused
  | EventCancelled
  | EventFinished
  | WaitingRoomConfigured
  | WaitingRoomRemoved;

export interface EventCategoryDoc {
  id: string;
  name: string;
  price: number;
  currency: Currency;
  kind: TicketCategory["kind"];
  /** Tickets the category offers: the quota, or the number of seats. */
  capacity: number;
}

export interface EventDoc extends ReadDoc {
  id: string;
  name: string;
  description: string | null;
  category: EventCategory;
  status: EventStatus;
  /** null: an imported open-date event (valid any day; its dates are unknown). */
  startsAt: number | null;
  endsAt: number | null;
  /** The dates in the event's time zone with its offset, e.g. 2025-06-01T19:00:00+03:00. */
  startsAtIso: string | null;
  endsAtIso: string | null;
  timezone: string;
  venue: { id: string; name: string; address: string; city: string; lat: number | null; lon: number | null };
  organizer: OrganizerSnapshot;
  artists: ArtistSnapshot[];
  artistIds: string[];
  seriesId: string | null;
  mediaUrl: string | null;
  categories: EventCategoryDoc[];
  /** Tickets offered by all categories. */
  capacity: number;
  /** The lowest category price; null without categories. */
  priceFrom: number | null;
  currency: Currency | null;
  /** searchKey of the venue's city, for an exact city filter. */
  cityKey: string;
  /** searchKey of the event's, the artists' and the venue's names, for a substring search. */
  search: string;
  cancelReason: string | null;
  /** When sales first opened. */
  publishedAt: number | null;
  /** The waiting room buyers queue in before they may order; null (or absent, for older documents): none. */
  waitingRoom?: (WaitingRoomSettings & { opensAtIso: string }) | null;
  /** Imported events: the partner it comes from and its ticket sets; absent (or null) for ours. */
  source?: ExternalSource | null;
  ticketSets?: ExternalTicketSet[];
  createdAt: number;
  updatedAt: number;
}

export function eventStream(id: string): string {
  return `event-${id}`;
}
