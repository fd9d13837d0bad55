import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { insertDoc, updateDoc } from "../../lib/domain/read-docs";
import { searchKey } from "../../lib/domain/text";
import { formatInstant } from "../../lib/domain/time";
import type { Projection, ProjectionView } from "../../lib/eventlog/projection";
import type { Filter } from "../../lib/store/types";
import type { ArtistUpdated } from "../artists/artists.types";
import type { OrganizerImported, OrganizerUpdated } from "../organizers/organizers.types";
import type { VenueAddressChanged, VenueGeocoded, VenueSnapshot, VenueUpdated } from "../venues/venues.types";
import type {
  EventCancelled,
  EventCategoryDoc,
  EventCreated,
  EventDoc,
  EventImported,
  EventUpdated,
  TicketCategory,
  TicketCategoryAdded,
  TicketCategoryRemoved,
  TicketCategoryUpdated,
  WaitingRoomConfigured,
} from "./events.types";

function venueOf(venue: VenueSnapshot): EventDoc["venue"] {
  return {
    id: venue.id,
    name: venue.name,
    address: venue.address,
    city: venue.city,
    lat: venue.lat ?? null,
    lon: venue.lon ?? null,
  };
}

function categoryOf(category: TicketCategory): EventCategoryDoc {
  const { id, name, price, currency, kind } = category;
  return { id, name, price, currency, kind, capacity: category.kind === "ga" ? category.quota : category.seats.length };
}

type Derived = "startsAtIso" | "endsAtIso" | "artistIds" | "capacity" | "priceFrom" | "currency" | "cityKey" | "search";

/** Recomputes every field that is derived from others, so no handler can leave one stale. */
function derive(doc: Omit<EventDoc, Derived>): EventDoc {
  // An imported event has ticket sets instead of categories, priced by the partner.
  const priced = (doc.ticketSets ?? []).filter((s) => s.price !== undefined);
  const prices = [...doc.categories.map((c) => c.price), ...priced.map((s) => s.price!)];
  return {
    ...doc,
    startsAtIso: doc.startsAt === null ? null : formatInstant(doc.startsAt, doc.timezone),
    endsAtIso: doc.endsAt === null ? null : formatInstant(doc.endsAt, doc.timezone),
    artistIds: doc.artists.map((a) => a.id),
    // An imported event has ticket sets instead of categories.
    capacity: doc.categories.reduce((n, c) => n + c.capacity, 0) + (doc.ticketSets ?? []).reduce((n, s) => n + s.amount, 0),
    priceFrom: prices.length > 0 ? Math.min(...prices) : null,
    currency: doc.categories[0]?.currency ?? priced[0]?.currency ?? null,
    cityKey: searchKey(doc.venue.city),
    search: [doc.name, ...doc.artists.map((a) => a.name), doc.venue.name].map(searchKey).join(" | "),
    // Shown in the event's time zone, which may change after the room was set.
    waitingRoom: doc.waitingRoom
      ? { ...doc.waitingRoom, opensAtIso: formatInstant(doc.waitingRoom.opensAt, doc.timezone) }
      : null,
  };
}

/** Changes the event's own document and recomputes what derives from the change. */
function change(
  view: ProjectionView<EventDoc>,
  id: string,
  at: number,
  update: (doc: EventDoc) => Partial<EventDoc>,
): Promise<void> {
  return updateDoc(view, id, at, (doc) => derive({ ...doc, ...update(doc) }));
}

/** Carries a change of an organizer, artist or venue into every event that shows it. */
async function follow(
  view: ProjectionView<EventDoc>,
  filter: Filter,
  at: number,
  update: (doc: EventDoc) => Partial<EventDoc> | null,
): Promise<void> {
  for (const doc of await view.find(filter)) {
    const changes = update(doc);
    if (changes) view.put(derive({ ...doc, ...changes, updatedAt: at }));
  }
}

export const eventsProjection: Projection<EventDoc> = {
  name: "catalogue.events",
  log: CATALOGUE_LOG,
  collection: "events",
  indexes: [
    { field: "status" },
    { field: "startsAt" },
    { field: "cityKey" },
    { field: "venue.id" },
    { field: "organizer.id" },
    { field: "artistIds" },
    { field: "seriesId" },
  ],
  apply: async (event, view) => {
    const at = event.at;
    switch (event.type) {
      case "EventCreated": {
        const data = event.data as EventCreated["data"];
        return insertDoc(
          view,
          derive({
            _id: data.id,
            id: data.id,
            name: data.name,
            description: data.description ?? null,
            category: data.category,
            status: "draft",
            startsAt: data.startsAt,
            endsAt: data.endsAt,
            timezone: data.timezone,
            venue: venueOf(data.venue),
            organizer: data.organizer,
            artists: data.artists,
            seriesId: data.seriesId ?? null,
            mediaUrl: data.mediaUrl ?? null,
            categories: [],
            cancelReason: null,
            publishedAt: null,
            waitingRoom: null,
            createdAt: at,
            updatedAt: at,
          }),
        );
      }
      case "EventImported": {
        const data = event.data as EventImported["data"];
        const doc = await view.get(data.id);
        view.put(
          derive({
            _id: data.id,
            id: data.id,
            name: data.name,
            description: data.description ?? null,
            category: data.category,
            status: data.status,
            startsAt: data.startsAt,
            endsAt: data.endsAt,
            timezone: data.timezone,
            venue: venueOf(data.venue),
            // The organizer's own stream names it (it may arrive after the event).
            organizer: { id: data.organizer.id, name: data.organizer.name || (doc?.organizer.name ?? "") },
            artists: data.artists,
            seriesId: data.seriesId ?? null,
            mediaUrl: data.mediaUrl ?? null,
            categories: [],
            cancelReason: data.cancelReason ?? null,
            publishedAt: doc?.publishedAt ?? (data.status === "draft" ? null : at),
            source: data.source,
            ticketSets: data.ticketSets ?? [],
            createdAt: doc?.createdAt ?? at,
            updatedAt: at,
          }),
        );
        return;
      }
      case "EventUpdated": {
        const { id, venue, ...changes } = event.data as EventUpdated["data"];
        return change(view, id, at, () => ({ ...changes, ...(venue && { venue: venueOf(venue) }) }));
      }
      case "TicketCategoryAdded": {
        const data = event.data as TicketCategoryAdded["data"];
        return change(view, data.id, at, (doc) => ({ categories: [...doc.categories, categoryOf(data.category)] }));
      }
      case "TicketCategoryUpdated": {
        const { id, categoryId, name, price, quota, seats } = event.data as TicketCategoryUpdated["data"];
        const capacity = quota ?? seats?.length;
        return change(view, id, at, (doc) => ({
          categories: doc.categories.map((c) =>
            c.id === categoryId ? { ...c, name: name ?? c.name, price: price ?? c.price, capacity: capacity ?? c.capacity } : c,
          ),
        }));
      }
      case "TicketCategoryRemoved": {
        const data = event.data as TicketCategoryRemoved["data"];
        return change(view, data.id, at, (doc) => ({ categories: doc.categories.filter((c) => c.id !== data.categoryId) }));
      }
      case "EventPublished":
        return change(view, (event.data as { id: string }).id, at, (doc) => ({
          status: "on_sale",
          publishedAt: doc.publishedAt ?? at,
        }));
      case "EventPaused":
        return change(view, (event.data as { id: string }).id, at, () => ({ status: "paused" }));
      case "EventCancelled": {
        const data = event.data as EventCancelled["data"];
        return change(view, data.id, at, () => ({ status: "cancelled", cancelReason: data.reason }));
      }
      case "EventFinished":
        return change(view, (event.data as { id: string }).id, at, () => ({ status: "finished" }));
      case "WaitingRoomConfigured": {
        const { id, opensAt, rate } = event.data as WaitingRoomConfigured["data"];
        return change(view, id, at, (doc) => ({
          waitingRoom: { opensAt, opensAtIso: formatInstant(opensAt, doc.timezone), rate },
        }));
      }
      case "WaitingRoomRemoved":
        return change(view, (event.data as { id: string }).id, at, () => ({ waitingRoom: null }));
      case "OrganizerUpdated":
      case "OrganizerImported": {
        const { id, name } = event.data as OrganizerUpdated["data"] | OrganizerImported["data"];
        if (name === undefined) return;
        return follow(view, { "organizer.id": id }, at, (doc) => ({ organizer: { ...doc.organizer, name } }));
      }
      case "ArtistUpdated": {
        const { id, name } = event.data as ArtistUpdated["data"];
        if (name === undefined) return;
        return follow(view, { artistIds: id }, at, (doc) => ({
          artists: doc.artists.map((a) => (a.id === id ? { ...a, name } : a)),
        }));
      }
      case "VenueUpdated": {
        const { id, name, city } = event.data as VenueUpdated["data"];
        if (name === undefined && city === undefined) return;
        return follow(view, { "venue.id": id }, at, (doc) => ({
          venue: { ...doc.venue, name: name ?? doc.venue.name, city: city ?? doc.venue.city },
        }));
      }
      case "VenueAddressChanged": {
        const { id, address } = event.data as VenueAddressChanged["data"];
        return follow(view, { "venue.id": id }, at, (doc) => ({ venue: { ...doc.venue, address, lat: null, lon: null } }));
      }
      case "VenueGeocoded": {
        const { id, address, lat, lon } = event.data as VenueGeocoded["data"];
        // Coordinates of an address this event no longer shows would put its pin in the wrong place.
        return follow(view, { "venue.id": id }, at, (doc) =>
          doc.venue.address === address ? { venue: { ...doc.venue, lat, lon } } : null,
        );
      }
    }
  },
};
