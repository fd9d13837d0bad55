import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { insertDoc, updateDoc } from "../../lib/domain/read-docs";
import { searchKey } from "../../lib/domain/text";
import type { Projection } from "../../lib/eventlog/projection";
import type {
  VenueAddressChanged,
  VenueCreated,
  VenueDoc,
  VenueGeocoded,
  VenueGeocodeFailed,
  VenueLayout,
  VenueUpdated,
} from "./venues.types";

function layoutSummary(layout: VenueLayout | null | undefined): Pick<VenueDoc, "seated" | "sections"> {
  const sections = (layout?.sections ?? []).map((s) => ({
    id: s.id,
    name: s.name,
    rows: s.rows.length,
    seats: s.rows.reduce((n, r) => n + r.seats.length, 0),
  }));
  return { seated: !!layout, sections };
}

/** The current address has no coordinates yet. */
const notLocated: Pick<VenueDoc, "location" | "formattedAddress" | "geocoding"> = {
  location: null,
  formattedAddress: null,
  geocoding: { status: "pending", at: null, failure: null },
};

export const venuesProjection: Projection<VenueDoc> = {
  name: "catalogue.venues",
  log: CATALOGUE_LOG,
  collection: "venues",
  indexes: [{ field: "cityKey" }, { field: "nameKey" }, { field: "ownerOrganizerId" }],
  apply: async (event, view) => {
    switch (event.type) {
      case "VenueCreated": {
        const data = event.data as VenueCreated["data"];
        return insertDoc(view, {
          _id: data.id,
          id: data.id,
          name: data.name,
          nameKey: searchKey(data.name),
          address: data.address,
          city: data.city,
          cityKey: searchKey(data.city),
          timezone: data.timezone,
          capacity: data.capacity,
          ...layoutSummary(data.layout),
          ownerOrganizerId: data.ownerOrganizerId ?? null,
          ...notLocated,
          createdAt: event.at,
          updatedAt: event.at,
        });
      }
      case "VenueUpdated": {
        const { id, name, city, timezone, capacity, layout } = event.data as VenueUpdated["data"];
        return updateDoc(view, id, event.at, (doc): VenueDoc => ({
          ...doc,
          name: name ?? doc.name,
          nameKey: searchKey(name ?? doc.name),
          city: city ?? doc.city,
          cityKey: searchKey(city ?? doc.city),
          timezone: timezone ?? doc.timezone,
          capacity: capacity ?? doc.capacity,
          ...(layout !== undefined && layoutSummary(layout)),
        }));
      }
      case "VenueAddressChanged": {
        const { id, address } = event.data as VenueAddressChanged["data"];
        return updateDoc(view, id, event.at, (doc): VenueDoc => ({ ...doc, address, ...notLocated }));
      }
      case "VenueGeocoded": {
        const { id, lat, lon, formatted, at } = event.data as VenueGeocoded["data"];
        return updateDoc(view, id, event.at, (doc): VenueDoc => ({
          ...doc,
          location: { lat, lon },
          formattedAddress: formatted,
          geocoding: { status: "located", at, failure: null },
        }));
      }
      case "VenueGeocodeFailed": {
        const { id, failure } = event.data as VenueGeocodeFailed["data"];
        return updateDoc(view, id, event.at, (doc): VenueDoc => ({
          ...doc,
          geocoding: { status: "failed", at: failure.at, failure },
        }));
      }
    }
  },
};
