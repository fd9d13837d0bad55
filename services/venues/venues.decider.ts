import { actingOrganizer, alreadyExists, isAdmin, notFound, requireAdmin, requireOwner } from "../../lib/domain/actor";
import { externalFailure, sameFailure } from "../../lib/domain/failure";
import { id, label } from "../../lib/domain/ids";
import { compact, deepEqual } from "../../lib/domain/objects";
import { timeZone } from "../../lib/domain/time";
import { array, invalid, nonNegativeInt, optionalText, positiveInt, record, text } from "../../lib/domain/validation";
import type { Decider } from "../../lib/eventlog/decider";
import type {
  CreateVenue,
  RecordGeocode,
  RecordGeocodeFailure,
  UpdateVenue,
  Venue,
  VenueCommand,
  VenueEvent,
  VenueLayout,
  VenueRow,
  VenueSection,
  VenueSnapshot,
  VenueState,
} from "./venues.types";

const NAME = { max: 200 };
const ADDRESS = { max: 500 };
const CITY = { max: 100 };
/** The largest stadiums hold about 100 000; more is a typo. */
const MAX_CAPACITY = 200_000;
const MAX_SEATED = 100_000;

export function seatId(sectionId: string, rowId: string, seat: string): string {
  return `${sectionId}:${rowId}:${seat}`;
}

export function seatIdsOf(layout: VenueLayout | undefined): string[] {
  return (layout?.sections ?? []).flatMap((s) => s.rows.flatMap((r) => r.seats.map((seat) => seatId(s.id, r.id, seat))));
}

function decideCreate(command: CreateVenue, state: VenueState): VenueEvent[] {
  const ownerOrganizerId = isAdmin(command.actor) ? undefined : actingOrganizer(command.actor);
  const venueId = id(command.id, "id");
  if (state) throw alreadyExists("venue", venueId);
  const layout = command.layout === undefined ? undefined : validLayout(command.layout);
  return [
    {
      type: "VenueCreated",
      data: compact({
        id: venueId,
        name: text(command.name, "name", NAME),
        address: text(command.address, "address", ADDRESS),
        city: text(command.city, "city", CITY),
        timezone: timeZone(command.timezone, "timezone"),
        capacity: capacityFor(layout, command.capacity),
        layout,
        ownerOrganizerId,
      }),
    },
  ];
}

function decideUpdate(command: UpdateVenue, state: VenueState): VenueEvent[] {
  if (!state) throw notFound("venue", command.id);
  requireOwner(command.actor, state.ownerOrganizerId, "this venue");
  const name = optionalText(command.name, "name", NAME);
  const address = optionalText(command.address, "address", ADDRESS);
  const city = optionalText(command.city, "city", CITY);
  const timezone = command.timezone === undefined ? undefined : timeZone(command.timezone, "timezone");
  const layout = command.layout === undefined ? state.layout : command.layout === null ? undefined : validLayout(command.layout);
  // Without a layout and without a new capacity, a venue that drops its plan keeps its size.
  const capacity = capacityFor(layout, command.capacity ?? (layout ? undefined : state.capacity));

  const events: VenueEvent[] = [];
  const changes = compact({
    name: name !== undefined && name !== state.name ? name : undefined,
    city: city !== undefined && city !== state.city ? city : undefined,
    timezone: timezone !== undefined && timezone !== state.timezone ? timezone : undefined,
    capacity: capacity !== state.capacity ? capacity : undefined,
    layout: deepEqual(layout, state.layout) ? undefined : (layout ?? null),
  });
  if (Object.keys(changes).length > 0) events.push({ type: "VenueUpdated", data: { id: state.id, ...changes } });
  if (address !== undefined && address !== state.address) {
    events.push({ type: "VenueAddressChanged", data: { id: state.id, address } });
  }
  return events;
}

/**
 * Geocoding answers are dropped, not refused, once they no longer apply (the venue has moved,
 * or a newer answer is in): the job did nothing wrong and must not retry.
 */
function stillApplies(state: Venue, address: string, at: number): boolean {
  return address === state.address && !(state.location && at < state.location.at);
}

function decideGeocode(command: RecordGeocode, state: VenueState): VenueEvent[] {
  requireAdmin(command.actor, "record coordinates");
  if (!state) throw notFound("venue", command.id);
  const at = nonNegativeInt(command.at, "at");
  if (!stillApplies(state, command.address, at)) return [];
  const lat = coordinate(command.lat, "lat", 90);
  const lon = coordinate(command.lon, "lon", 180);
  const formatted = text(command.formatted, "formatted", ADDRESS);
  const same = state.location?.lat === lat && state.location.lon === lon && state.location.formatted === formatted;
  if (same && !state.geocodeFailure) return [];
  return [{ type: "VenueGeocoded", data: { id: state.id, address: state.address, lat, lon, formatted, at } }];
}

function decideGeocodeFailure(command: RecordGeocodeFailure, state: VenueState): VenueEvent[] {
  requireAdmin(command.actor, "record a geocoding failure");
  if (!state) throw notFound("venue", command.id);
  const failure = externalFailure(command.at, command.code, command.message);
  if (!stillApplies(state, command.address, failure.at) || sameFailure(state.geocodeFailure, failure)) return [];
  return [{ type: "VenueGeocodeFailed", data: { id: state.id, address: state.address, failure } }];
}

function coordinate(value: unknown, field: string, limit: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > limit) {
    throw invalid(field, `must be a number between -${limit} and ${limit}`);
  }
  return value;
}

function capacityFor(layout: VenueLayout | undefined, given: number | undefined): number {
  if (!layout) {
    if (given === undefined) throw invalid("capacity", "is required for a venue without a seating layout");
    const capacity = positiveInt(given, "capacity");
    if (capacity > MAX_CAPACITY) throw invalid("capacity", `must be at most ${MAX_CAPACITY}`);
    return capacity;
  }
  const seats = seatIdsOf(layout).length;
  if (given !== undefined && given !== seats) {
    throw invalid("capacity", `must equal the ${seats} seats of the layout (or be left out)`, { seats });
  }
  return seats;
}

function validLayout(value: unknown): VenueLayout {
  const input = record(value, "layout");
  const sections = unique(array(input.sections, "layout.sections", 200), "layout.sections", section);
  if (sections.length === 0) throw invalid("layout.sections", "must have at least one section");
  const seats = sections.reduce((n, s) => n + s.rows.reduce((m, r) => m + r.seats.length, 0), 0);
  if (seats > MAX_SEATED) throw invalid("layout", `must have at most ${MAX_SEATED} seats`);
  return { sections };
}

function section(value: unknown, field: string): VenueSection {
  const input = record(value, field);
  const rows = unique(array(input.rows, `${field}.rows`, 1000), `${field}.rows`, row);
  if (rows.length === 0) throw invalid(`${field}.rows`, "must have at least one row");
  return { id: label(input.id, `${field}.id`), name: text(input.name, `${field}.name`, { max: 100 }), rows };
}

function row(value: unknown, field: string): VenueRow {
  const input = record(value, field);
  const seats = array(input.seats, `${field}.seats`, 2000).map((s, i) => label(s, `${field}.seats[${i}]`));
  if (seats.length === 0) throw invalid(`${field}.seats`, "must have at least one seat");
  const duplicate = seats.find((s, i) => seats.indexOf(s) !== i);
  if (duplicate !== undefined) throw invalid(`${field}.seats`, `has seat "${duplicate}" twice`);
  return { id: label(input.id, `${field}.id`), seats };
}

/** Parses the items and refuses two with the same id: a seat id must name exactly one seat. */
function unique<T extends { id: string }>(items: unknown[], field: string, parse: (v: unknown, f: string) => T): T[] {
  const parsed = items.map((item, i) => parse(item, `${field}[${i}]`));
  const ids = new Set<string>();
  for (const item of parsed) {
    if (ids.has(item.id)) throw invalid(field, `has id "${item.id}" twice`);
    ids.add(item.id);
  }
  return parsed;
}

export const venueDecider: Decider<VenueCommand, VenueEvent, VenueState> = {
  initialState: () => null,
  decide: (command, state) => {
    switch (command.type) {
      case "CreateVenue":
        return decideCreate(command, state);
      case "UpdateVenue":
        return decideUpdate(command, state);
      case "RecordGeocode":
        return decideGeocode(command, state);
      case "RecordGeocodeFailure":
        return decideGeocodeFailure(command, state);
    }
  },
  evolve: (state, event) => {
    if (event.type === "VenueCreated") return event.data;
    const current = created(state);
    switch (event.type) {
      case "VenueUpdated": {
        const { id: _id, layout, ...rest } = event.data;
        return compact({ ...current, ...rest, layout: layout === undefined ? current.layout : (layout ?? undefined) });
      }
      case "VenueAddressChanged": {
        const { location: _location, geocodeFailure: _failure, ...rest } = current;
        return { ...rest, address: event.data.address };
      }
      case "VenueGeocoded": {
        const { lat, lon, formatted, at } = event.data;
        const { geocodeFailure: _failure, ...rest } = current;
        return { ...rest, location: { lat, lon, formatted, at } };
      }
      case "VenueGeocodeFailed":
        return { ...current, geocodeFailure: event.data.failure };
    }
  },
};

function created(state: VenueState): Venue {
  if (!state) throw new Error("venue stream has an event before its creation");
  return state;
}

/** What an event keeps of its venue (the service loads it before creating or moving an event). */
export function venueSnapshot(state: VenueState): VenueSnapshot | null {
  if (!state) return null;
  return compact({
    id: state.id,
    name: state.name,
    address: state.address,
    city: state.city,
    timezone: state.timezone,
    capacity: state.capacity,
    seatIds: seatIdsOf(state.layout),
    lat: state.location?.lat,
    lon: state.location?.lon,
  });
}

/** The address the service should geocode after this event, if any. */
export function addressToGeocode(event: VenueEvent): string | null {
  return event.type === "VenueCreated" || event.type === "VenueAddressChanged" ? event.data.address : null;
}
