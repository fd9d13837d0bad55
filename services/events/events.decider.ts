import { actingOrganizer, alreadyExists, forbidden, isAdmin, notFound, requireOwner } from "../../lib/domain/actor";
import { checkSameSource, importedElsewhere } from "../../lib/domain/external";
import { id } from "../../lib/domain/ids";
import { currency, minorUnits } from "../../lib/domain/money";
import { compact, deepEqual } from "../../lib/domain/objects";
import { instant, timeZone } from "../../lib/domain/time";
import { array, invalid, nonNegativeInt, oneOf, optionalText, positiveInt, text, webUrl } from "../../lib/domain/validation";
import { DomainError, type Decider } from "../../lib/eventlog/decider";
import type { ArtistSnapshot } from "../artists/artists.types";
import type { VenueSnapshot } from "../venues/venues.types";
import {
  EVENT_CATEGORIES,
  EVENT_STATUSES,
  type AddTicketCategory,
  type CancelEvent,
  type CatalogueEvent,
  type CategoryAllocation,
  type CreateEvent,
  type EventCommand,
  type EventState,
  type EventStatus,
  type EventStreamEvent,
  type ExternalTicketSet,
  type FinishEvent,
  type ImportEvent,
  type MissingArtist,
  type PublishEvent,
  type RemoveTicketCategory,
  type SoldCounts,
  type TicketCategory,
  type UpdateEvent,
  type UpdateTicketCategory,
} from "./events.types";
import { decideConfigureWaitingRoom, decideRemoveWaitingRoom, evolveWaitingRoom } from "./waiting-room.rules";

const NAME = { max: 200 };
const DESCRIPTION = { max: 10_000 };
const CATEGORY_NAME = { max: 100 };
const MAX_ARTISTS = 50;
/** Error data lists at most this many seats: enough to find them, small enough to send. */
const SAMPLE = 10;

function decideCreate(command: CreateEvent, state: EventState): EventStreamEvent[] {
  const organizerId = id(command.organizerId, "organizerId");
  if (!isAdmin(command.actor) && actingOrganizer(command.actor) !== organizerId) {
    throw forbidden("an organizer account may only create events of its own organizer");
  }
  const eventId = id(command.id, "id");
  if (state) throw alreadyExists("event", eventId);
  if (!command.organizer) throw notFound("organizer", organizerId);
  if (command.organizer.id !== organizerId) throw invalid("organizer", "must be the organizer named by organizerId");
  const venue = venueOf(command.venueId, command.venue);
  const startsAt = instant(command.startsAt, "startsAt");
  const endsAt = instant(command.endsAt, "endsAt");
  checkStart(startsAt, command.at);
  checkEnd(startsAt, endsAt);
  return [
    {
      type: "EventCreated",
      data: compact({
        id: eventId,
        organizerId,
        organizer: { id: command.organizer.id, name: command.organizer.name },
        venue,
        artists: artistsOf(command.artists),
        name: text(command.name, "name", NAME),
        description: optionalText(command.description, "description", DESCRIPTION),
        category: oneOf(command.category, "category", EVENT_CATEGORIES),
        startsAt,
        endsAt,
        timezone: command.timezone === undefined ? venue.timezone : timeZone(command.timezone, "timezone"),
        seriesId: command.seriesId === undefined ? undefined : id(command.seriesId, "seriesId"),
        mediaUrl: command.mediaUrl === undefined ? undefined : webUrl(command.mediaUrl, "mediaUrl", { httpsOnly: true }),
      }),
    },
  ];
}

/**
 * A partner's event, mirrored: any status, any dates (past ones too), validated as ours are.
 * It gets no ticket categories of ours (its sets are shown apart), so nothing sells it here.
 * An unchanged event appends nothing, and neither does a version older than the one applied
 * (by the partner's updated_at), so a repeated or late message cannot roll it back.
 */
function decideImport(command: ImportEvent, state: EventState): EventStreamEvent[] {
  const eventId = id(command.id, "id");
  if (state) checkSameSource("event", eventId, state.source, command.source);
  const applied = state?.sourceUpdatedAt;
  if (applied !== undefined && command.updatedAt !== undefined && command.updatedAt < applied) return [];
  const organizerId = id(command.organizerId, "org");
  if (command.organizer && command.organizer.id !== organizerId) throw invalid("organizer", "must be the organizer named by org");
  // An open-date event has no start (its tickets are valid any day): its dates stay unknown (null).
  if (!command.openDate && command.startsAt === undefined) throw invalid("lifetime.start", "is missing");
  if (!command.openDate && command.endsAt === undefined) throw invalid("lifetime.finish", "is missing");
  const startsAt = command.openDate || command.startsAt === undefined ? null : instant(command.startsAt, "lifetime.start");
  const endsAt = command.endsAt === undefined ? null : instant(command.endsAt, "lifetime.finish");
  if (startsAt !== null && endsAt !== null && endsAt <= startsAt)
    throw invalid("lifetime.finish", "must be after lifetime.start");
  const timezone = timeZone(command.timezone, "timezone");
  const ticketSets = ticketSetsOf(command.ticketSets);
  const status = oneOf(command.status, "status", EVENT_STATUSES);
  const next: CatalogueEvent = compact({
    id: eventId,
    organizerId,
    organizer: { id: organizerId, name: command.organizer?.name ?? state?.organizer.name ?? "" },
    // The stream names the venue by id only.
    venue: {
      id: command.venueId === undefined ? "" : id(command.venueId, "venue"),
      name: "",
      address: "",
      city: "",
      timezone,
      capacity: ticketSets.reduce((n, s) => n + s.amount, 0),
      seatIds: [],
    },
    // Known by id only: shown as artists whose name is unknown ("").
    artists: array(command.artistIds ?? [], "artists", 100).map((a, i) => ({ id: id(a, `artists[${i}]`), name: "" })),
    name: text(command.name, "name", NAME),
    description: optionalText(command.description, "description", DESCRIPTION),
    category: oneOf(command.category, "category", EVENT_CATEGORIES),
    startsAt,
    endsAt,
    timezone,
    seriesId: command.seriesId === undefined ? undefined : id(command.seriesId, "meta"),
    mediaUrl: command.mediaUrl === undefined ? undefined : webUrl(command.mediaUrl, "media.cover", { httpsOnly: true }),
    status,
    cancelReason: status === "cancelled" ? `cancelled by ${command.source.partner}` : undefined,
    categories: [],
    source: { partner: command.source.partner, id: command.source.id },
    sourceUpdatedAt: command.updatedAt ?? applied,
    ticketSets,
  });
  // The organizer's name follows its own stream (the read model tracks renames): alone, it is no change.
  if (state && deepEqual({ ...next, organizer: state.organizer }, state)) return [];
  return [{ type: "EventImported", data: next as CatalogueEvent & { source: ImportEvent["source"] } }];
}

function ticketSetsOf(value: unknown): ExternalTicketSet[] {
  const seen = new Set<string>();
  return array(value, "sets", 1000).map((item, i) => {
    const set = item as ExternalTicketSet;
    const setId = id(set.id, `sets[${i}].id`);
    if (seen.has(setId)) throw invalid("sets", `lists set ${setId} twice`);
    seen.add(setId);
    return compact({
      id: setId,
      name: text(set.name, `sets[${i}].name`, CATEGORY_NAME),
      description: optionalText(set.description, `sets[${i}].description`, DESCRIPTION),
      sector: optionalText(set.sector, `sets[${i}].sector`, CATEGORY_NAME),
      seated: set.seated === true,
      amount: nonNegativeInt(set.amount, `sets[${i}].amount`),
      price: set.price === undefined ? undefined : minorUnits(set.price, `sets[${i}].price`),
      currency: set.price === undefined ? undefined : currency(set.currency, `sets[${i}].currency`),
    });
  });
}

function decideUpdate(command: UpdateEvent, state: OwnEvent): EventStreamEvent[] {
  const venue = command.venueId === undefined ? undefined : venueOf(command.venueId, command.venue);
  const movedTo = venue && !deepEqual(venue, state.venue) ? venue : undefined;
  if (movedTo) checkVenueFits(movedTo, state.categories);

  const startsAt = command.startsAt === undefined ? state.startsAt : instant(command.startsAt, "startsAt");
  const endsAt = command.endsAt === undefined ? state.endsAt : instant(command.endsAt, "endsAt");
  // Only a new start must lie ahead: an event under way may still be extended.
  if (startsAt !== state.startsAt) checkStart(startsAt, command.at);
  checkEnd(startsAt, endsAt);
  const relocated = movedTo && movedTo.id !== state.venue.id;
  const timezone =
    command.timezone !== undefined ? timeZone(command.timezone, "timezone") : relocated ? movedTo.timezone : state.timezone;
  const name = optionalText(command.name, "name", NAME);
  const description = command.description === null ? null : optionalText(command.description, "description", DESCRIPTION);
  const category = command.category === undefined ? undefined : oneOf(command.category, "category", EVENT_CATEGORIES);
  const artists = command.artists === undefined ? undefined : artistsOf(command.artists);
  const seriesId =
    command.seriesId === null || command.seriesId === undefined ? command.seriesId : id(command.seriesId, "seriesId");
  const mediaUrl =
    command.mediaUrl === null || command.mediaUrl === undefined
      ? command.mediaUrl
      : webUrl(command.mediaUrl, "mediaUrl", { httpsOnly: true });

  const changed = <T>(next: T | undefined, current: T | undefined): boolean => next !== undefined && !deepEqual(next, current);
  // Renamed artists keep their ids: the projection follows renames, so only the line-up counts.
  const sameLineUp = artists && deepEqual(lineUp(artists), lineUp(state.artists));
  const changes = compact({
    name: changed(name, state.name) ? name : undefined,
    description: changed(description, state.description ?? null) ? description : undefined,
    category: changed(category, state.category) ? category : undefined,
    startsAt: startsAt !== state.startsAt ? startsAt : undefined,
    endsAt: endsAt !== state.endsAt ? endsAt : undefined,
    timezone: timezone !== state.timezone ? timezone : undefined,
    venue: movedTo,
    artists: artists && !sameLineUp ? artists : undefined,
    seriesId: changed(seriesId, state.seriesId ?? null) ? seriesId : undefined,
    mediaUrl: changed(mediaUrl, state.mediaUrl ?? null) ? mediaUrl : undefined,
  });
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "EventUpdated", data: { id: state.id, ...changes } }];
}

function decideAddCategory(command: AddTicketCategory, state: CatalogueEvent): EventStreamEvent[] {
  const categoryId = id(command.categoryId, "categoryId");
  if (state.categories.some((c) => c.id === categoryId)) {
    throw new DomainError("CATEGORY_EXISTS", `ticket category ${categoryId} already exists`, 409, { categoryId });
  }
  const name = categoryName(command.name, state, categoryId);
  const price = minorUnits(command.price, "price");
  const money = currency(command.currency, "currency");
  const other = state.categories.find((c) => c.currency !== money);
  if (other) {
    throw new DomainError("CURRENCY_MISMATCH", `all ticket categories of an event use one currency: ${other.currency}`, 422, {
      currency: other.currency,
    });
  }
  const category: TicketCategory = { id: categoryId, name, price, currency: money, ...allocationOf(command) };
  checkAllocation(state, category);
  return [{ type: "TicketCategoryAdded", data: { id: state.id, category } }];
}

function allocationOf(command: CategoryAllocation): CategoryAllocation {
  switch (command.kind) {
    case "ga":
      return { kind: "ga", quota: positiveInt(command.quota, "quota") };
    case "seated":
      return { kind: "seated", seats: seatsOf(command.seats) };
    default:
      throw invalid("kind", "must be one of: ga, seated");
  }
}

function decideUpdateCategory(command: UpdateTicketCategory, state: CatalogueEvent): EventStreamEvent[] {
  const current = categoryOf(state, command.categoryId);
  const sold = soldOf(command.sold, current.id);
  const name = command.name === undefined ? undefined : categoryName(command.name, state, current.id);
  const price = command.price === undefined ? undefined : minorUnits(command.price, "price");
  const resized = resize(current, command);
  const next: TicketCategory = { ...current, name: name ?? current.name, price: price ?? current.price, ...resized.allocation };
  // Tickets already sold were sold at this price and for these seats: changing either under a
  // buyer's feet is what a new category is for.
  if (sold > 0 && next.price !== current.price) throw categorySold(current.id, sold, "its price cannot change");
  if (sold > 0 && resized.reduced) throw categorySold(current.id, sold, "its seats or quota cannot shrink");
  checkAllocation(state, next);

  const changes = compact({
    name: next.name !== current.name ? next.name : undefined,
    price: next.price !== current.price ? next.price : undefined,
    ...resized.changes,
  });
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "TicketCategoryUpdated", data: { id: state.id, categoryId: current.id, ...changes } }];
}

interface Resize {
  allocation: CategoryAllocation;
  reduced: boolean;
  changes: { quota?: number; seats?: string[] };
}

function resize(current: TicketCategory, command: UpdateTicketCategory): Resize {
  if (current.kind === "ga") {
    if (command.seats !== undefined) throw invalid("seats", "applies to seated categories only");
    const quota = command.quota === undefined ? current.quota : positiveInt(command.quota, "quota");
    return {
      allocation: { kind: "ga", quota },
      reduced: quota < current.quota,
      changes: quota !== current.quota ? { quota } : {},
    };
  }
  if (command.quota !== undefined) throw invalid("quota", "applies to general admission only");
  const seats = command.seats === undefined ? current.seats : seatsOf(command.seats);
  const kept = new Set(seats);
  const same = seats.length === current.seats.length && current.seats.every((s) => kept.has(s));
  return {
    allocation: { kind: "seated", seats },
    reduced: current.seats.some((s) => !kept.has(s)),
    changes: same ? {} : { seats },
  };
}

function decideRemoveCategory(command: RemoveTicketCategory, state: CatalogueEvent): EventStreamEvent[] {
  const current = categoryOf(state, command.categoryId);
  const sold = soldOf(command.sold, current.id);
  if (sold > 0) throw categorySold(current.id, sold, "it cannot be removed");
  if (state.status === "on_sale" && state.categories.length === 1) {
    throw new DomainError("LAST_CATEGORY", "an event on sale keeps at least one ticket category: pause it first", 409, {
      categoryId: current.id,
    });
  }
  return [{ type: "TicketCategoryRemoved", data: { id: state.id, categoryId: current.id } }];
}

/** Transitions to the status the event already has are no-ops, so a retried click is harmless. */
function decidePublish(command: PublishEvent, state: OwnEvent): EventStreamEvent[] {
  if (state.status === "on_sale") return [];
  requireStatus(state, ["draft", "paused"], "on_sale");
  const reasons: string[] = [];
  if (state.categories.length === 0) reasons.push("it has no ticket category");
  if (state.startsAt <= command.at) reasons.push("it has already started");
  if (reasons.length > 0) {
    throw new DomainError("EVENT_NOT_PUBLISHABLE", `event ${state.id} cannot go on sale: ${reasons.join("; ")}`, 422, {
      reasons,
    });
  }
  return [{ type: "EventPublished", data: { id: state.id } }];
}

function decidePause(state: CatalogueEvent): EventStreamEvent[] {
  if (state.status === "paused") return [];
  requireStatus(state, ["on_sale"], "paused");
  return [{ type: "EventPaused", data: { id: state.id } }];
}

function decideCancel(command: CancelEvent, state: CatalogueEvent): EventStreamEvent[] {
  if (state.status === "cancelled") return [];
  requireStatus(state, ["draft", "on_sale", "paused"], "cancelled");
  return [{ type: "EventCancelled", data: { id: state.id, reason: text(command.reason, "reason", { max: 1000 }) } }];
}

function decideFinish(command: FinishEvent, state: OwnEvent): EventStreamEvent[] {
  if (state.status === "finished") return [];
  requireStatus(state, ["on_sale", "paused"], "finished");
  if (command.at < state.endsAt && !isAdmin(command.actor)) {
    throw new DomainError("EVENT_NOT_ENDED", `event ${state.id} ends at ${new Date(state.endsAt).toISOString()}`, 409, {
      endsAt: state.endsAt,
    });
  }
  return [{ type: "EventFinished", data: { id: state.id } }];
}

function requireStatus(state: CatalogueEvent, from: EventStatus[], to: EventStatus): void {
  if (!from.includes(state.status)) {
    throw new DomainError("INVALID_TRANSITION", `event ${state.id} cannot go from ${state.status} to ${to}`, 409, {
      from: state.status,
      to,
    });
  }
}

function checkStart(startsAt: number, now: number): void {
  if (startsAt <= now) throw invalid("startsAt", "must be in the future");
}

function checkEnd(startsAt: number, endsAt: number): void {
  if (endsAt <= startsAt) throw invalid("endsAt", "must be after startsAt");
}

/** Copies only the snapshot's fields: the command may carry more than the event should keep. */
function venueOf(venueId: string, venue: VenueSnapshot | null | undefined): VenueSnapshot {
  if (!venue) throw notFound("venue", venueId);
  if (venue.id !== venueId) throw invalid("venue", "must be the venue named by venueId");
  return compact({
    id: venue.id,
    name: venue.name,
    address: venue.address,
    city: venue.city,
    timezone: venue.timezone,
    capacity: venue.capacity,
    seatIds: venue.seatIds,
    lat: venue.lat,
    lon: venue.lon,
  });
}

function artistsOf(value: Array<ArtistSnapshot | MissingArtist>): ArtistSnapshot[] {
  const seen = new Set<string>();
  return array(value, "artists", MAX_ARTISTS).map((item) => {
    const artist = item as ArtistSnapshot | MissingArtist;
    if ("missing" in artist) throw notFound("artist", artist.id);
    if (seen.has(artist.id)) throw invalid("artists", `lists artist ${artist.id} twice`);
    seen.add(artist.id);
    return { id: artist.id, name: artist.name };
  });
}

function lineUp(artists: ArtistSnapshot[]): string[] {
  return artists.map((a) => a.id);
}

function categoryName(value: unknown, state: CatalogueEvent, categoryId: string): string {
  const name = text(value, "name", CATEGORY_NAME);
  // Tickets and partner feeds name the category, not its id: two alike would be indistinguishable.
  const clash = state.categories.find((c) => c.id !== categoryId && c.name.toLowerCase() === name.toLowerCase());
  if (clash) {
    throw new DomainError("CATEGORY_NAME_TAKEN", `ticket category ${clash.id} is already called "${clash.name}"`, 409, {
      categoryId: clash.id,
    });
  }
  return name;
}

function seatsOf(value: unknown): string[] {
  const seats = array(value, "seats", 100_000).map((s, i) => {
    if (typeof s !== "string" || s.length === 0) throw invalid(`seats[${i}]`, "must be a seat id");
    return s;
  });
  if (seats.length === 0) throw invalid("seats", "must name at least one seat");
  const duplicate = seats.find((s, i) => seats.indexOf(s) !== i);
  if (duplicate !== undefined) throw invalid("seats", `lists seat ${duplicate} twice`);
  return seats;
}

function categoryOf(state: CatalogueEvent, categoryId: string): TicketCategory {
  const category = state.categories.find((c) => c.id === categoryId);
  if (!category) throw notFound("ticket category", categoryId);
  return category;
}

function soldOf(sold: SoldCounts | undefined, categoryId: string): number {
  return nonNegativeInt(sold?.[categoryId] ?? 0, `sold.${categoryId}`);
}

function categorySold(categoryId: string, sold: number, consequence: string): DomainError {
  return new DomainError("CATEGORY_SOLD", `ticket category ${categoryId} has ${sold} tickets sold: ${consequence}`, 409, {
    categoryId,
    sold,
  });
}

function capacityOf(category: TicketCategory): number {
  return category.kind === "ga" ? category.quota : category.seats.length;
}

/** Seats must exist in the venue and belong to one category; all categories together fit the venue. */
function checkAllocation(state: CatalogueEvent, category: TicketCategory): void {
  const others = state.categories.filter((c) => c.id !== category.id);
  if (category.kind === "seated") {
    const venueSeats = new Set(state.venue.seatIds);
    const unknown = category.seats.filter((s) => !venueSeats.has(s));
    if (unknown.length > 0) {
      throw invalid("seats", `names ${unknown.length} seats the venue does not have`, { unknownSeats: unknown.slice(0, SAMPLE) });
    }
    const taken = new Map<string, string>();
    for (const other of others) if (other.kind === "seated") for (const seat of other.seats) taken.set(seat, other.id);
    const conflicts = category.seats.filter((s) => taken.has(s));
    if (conflicts.length > 0) {
      throw new DomainError("SEAT_CONFLICT", `${conflicts.length} seats already belong to another ticket category`, 409, {
        seats: conflicts.slice(0, SAMPLE),
        categoryIds: [...new Set(conflicts.map((s) => taken.get(s)))],
      });
    }
  }
  const allocated = others.reduce((n, c) => n + capacityOf(c), 0);
  const requested = capacityOf(category);
  if (allocated + requested > state.venue.capacity) {
    throw new DomainError(
      "CAPACITY_EXCEEDED",
      `the venue holds ${state.venue.capacity}; other categories take ${allocated}, this one asks ${requested}`,
      422,
      { capacity: state.venue.capacity, allocated, requested },
    );
  }
}

/** A new venue must hold every existing category: the same seat ids, and room for all tickets. */
function checkVenueFits(venue: VenueSnapshot, categories: TicketCategory[]): void {
  const seats = new Set(venue.seatIds);
  const missing = categories.flatMap((c) => (c.kind === "seated" ? c.seats.filter((s) => !seats.has(s)) : []));
  if (missing.length > 0) {
    throw new DomainError(
      "VENUE_INCOMPATIBLE",
      `${missing.length} seats of the ticket categories do not exist in venue ${venue.id}`,
      409,
      {
        seats: missing.slice(0, SAMPLE),
      },
    );
  }
  const total = categories.reduce((n, c) => n + capacityOf(c), 0);
  if (total > venue.capacity) {
    throw new DomainError("CAPACITY_EXCEEDED", `venue ${venue.id} holds ${venue.capacity}; the categories offer ${total}`, 422, {
      capacity: venue.capacity,
      allocated: total,
    });
  }
}

const CLOSED: EventStatus[] = ["cancelled", "finished"];

/** One of our events: it always has its dates (only an imported open-date event has none). */
type OwnEvent = CatalogueEvent & { startsAt: number; endsAt: number };

function own(state: CatalogueEvent): OwnEvent {
  // Only imported events lack dates, and those are refused before (IMPORTED).
  if (state.startsAt === null || state.endsAt === null) throw new Error(`event ${state.id} has no dates`);
  return state as OwnEvent;
}

function decideOwn(command: Exclude<EventCommand, ImportEvent | CreateEvent>, state: OwnEvent): EventStreamEvent[] {
  switch (command.type) {
    case "PublishEvent":
      return decidePublish(command, state);
    case "PauseEvent":
      return decidePause(state);
    case "CancelEvent":
      return decideCancel(command, state);
    case "FinishEvent":
      return decideFinish(command, state);
  }
  if (CLOSED.includes(state.status)) {
    throw new DomainError("EVENT_CLOSED", `event ${state.id} is ${state.status}: it cannot be edited`, 409, {
      status: state.status,
    });
  }
  switch (command.type) {
    case "UpdateEvent":
      return decideUpdate(command, state);
    case "AddTicketCategory":
      return decideAddCategory(command, state);
    case "UpdateTicketCategory":
      return decideUpdateCategory(command, state);
    case "RemoveTicketCategory":
      return decideRemoveCategory(command, state);
    case "ConfigureWaitingRoom":
      return decideConfigureWaitingRoom(command, state);
    case "RemoveWaitingRoom":
      return decideRemoveWaitingRoom(command, state);
  }
}

export const eventDecider: Decider<EventCommand, EventStreamEvent, EventState> = {
  initialState: () => null,
  decide: (command, state) => {
    if (state?.source && command.type !== "ImportEvent") throw importedElsewhere("event", state.id, state.source);
    if (command.type === "ImportEvent") return decideImport(command, state);
    if (command.type === "CreateEvent") return decideCreate(command, state);
    if (!state) throw notFound("event", command.id);
    requireOwner(command.actor, state.organizerId, "this event");
    return decideOwn(command, own(state));
  },
  evolve: (state, event) => {
    if (event.type === "EventCreated") return { ...event.data, status: "draft", categories: [] };
    if (event.type === "EventImported") return event.data;
    const current = created(state);
    switch (event.type) {
      case "EventUpdated": {
        const { id: _id, description, seriesId, mediaUrl, ...rest } = event.data;
        return compact({
          ...current,
          ...rest,
          description: description === undefined ? current.description : (description ?? undefined),
          seriesId: seriesId === undefined ? current.seriesId : (seriesId ?? undefined),
          mediaUrl: mediaUrl === undefined ? current.mediaUrl : (mediaUrl ?? undefined),
        });
      }
      case "TicketCategoryAdded":
        return { ...current, categories: [...current.categories, event.data.category] };
      case "TicketCategoryUpdated": {
        const { id: _id, categoryId, ...changes } = event.data;
        const categories = current.categories.map((c) => (c.id === categoryId ? ({ ...c, ...changes } as TicketCategory) : c));
        return { ...current, categories };
      }
      case "TicketCategoryRemoved":
        return { ...current, categories: current.categories.filter((c) => c.id !== event.data.categoryId) };
      case "EventPublished":
        return { ...current, status: "on_sale" };
      case "EventPaused":
        return { ...current, status: "paused" };
      case "EventCancelled":
        return { ...current, status: "cancelled", cancelReason: event.data.reason };
      case "EventFinished":
        return { ...current, status: "finished" };
      case "WaitingRoomConfigured":
      case "WaitingRoomRemoved":
        return evolveWaitingRoom(current, event);
    }
  },
};

function created(state: EventState): CatalogueEvent {
  if (!state) throw new Error("event stream has an event before its creation");
  return state;
}
