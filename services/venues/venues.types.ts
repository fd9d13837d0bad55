import type { CommandBase } from "../../lib/domain/actor";
import type { ExternalFailure } from "../../lib/domain/failure";
import type { ReadDoc } from "../../lib/eventlog/projection";

export interface VenueRow {
  /** The row's label as printed on tickets ("1", "A"). */
  id: string;
  /** Seat labels in the row ("1", "2", "5A"). */
  seats: string[];
}

export interface VenueSection {
  id: string;
  name: string;
  rows: VenueRow[];
}

/** A seating plan; seat ids are `${sectionId}:${rowId}:${seat}`. */
export interface VenueLayout {
  sections: VenueSection[];
}

export interface VenueLocation {
  lat: number;
  lon: number;
  /** The address as the geocoder understood it, shown so a wrong match is noticed. */
  formatted: string;
  at: number;
}

export interface Venue {
  id: string;
  name: string;
  /** The postal address the geocoder is asked about. */
  address: string;
  city: string;
  /** IANA time zone: the default for the venue's events. */
  timezone: string;
  /** Number of seats with a layout; the general-admission limit without. */
  capacity: number;
  layout?: VenueLayout;
  /** Absent when an admin created the venue: then only admins edit it. */
  ownerOrganizerId?: string;
  /** Coordinates of the current address; dropped when the address changes. */
  location?: VenueLocation;
  /** The last failed geocoding of the current address. */
  geocodeFailure?: ExternalFailure;
}

export type VenueState = Venue | null;

/** What an event keeps of its venue, loaded by the service from the venue's stream. */
export interface VenueSnapshot {
  id: string;
  name: string;
  address: string;
  city: string;
  timezone: string;
  capacity: number;
  /** Every seat id of the layout; empty for general admission. */
  seatIds: string[];
  lat?: number;
  lon?: number;
}

export interface CreateVenue extends CommandBase {
  type: "CreateVenue";
  id: string;
  name: string;
  address: string;
  city: string;
  timezone: string;
  /** Required without a layout; with one it must equal the number of seats. */
  capacity?: number;
  layout?: VenueLayout;
}

/** Absent fields stay as they are; `layout: null` turns the venue into general admission. */
export interface UpdateVenue extends CommandBase {
  type: "UpdateVenue";
  id: string;
  name?: string;
  address?: string;
  city?: string;
  timezone?: string;
  capacity?: number;
  layout?: VenueLayout | null;
}

/** Sent by the geocoding job (a system actor with the admin role); `at` is when it asked. */
export interface RecordGeocode extends CommandBase {
  type: "RecordGeocode";
  id: string;
  /** The address that was geocoded: the result is dropped if the venue has moved since. */
  address: string;
  lat: number;
  lon: number;
  formatted: string;
}

export interface RecordGeocodeFailure extends CommandBase {
  type: "RecordGeocodeFailure";
  id: string;
  address: string;
  code: string;
  message: string;
}

export type VenueCommand = CreateVenue | UpdateVenue | RecordGeocode | RecordGeocodeFailure;

export interface VenueCreated {
  type: "VenueCreated";
  data: Omit<Venue, "location" | "geocodeFailure">;
}

/** Carries the changed fields only (the address has its own event). */
export interface VenueUpdated {
  type: "VenueUpdated";
  data: { id: string; name?: string; city?: string; timezone?: string; capacity?: number; layout?: VenueLayout | null };
}

/** The coordinates are gone with the old address; the service geocodes the new one. */
export interface VenueAddressChanged {
  type: "VenueAddressChanged";
  data: { id: string; address: string };
}

export interface VenueGeocoded {
  type: "VenueGeocoded";
  data: { id: string; address: string; lat: number; lon: number; formatted: string; at: number };
}

export interface VenueGeocodeFailed {
  type: "VenueGeocodeFailed";
  data: { id: string; address: string; failure: ExternalFailure };
}

export type VenueEvent = VenueCreated | VenueUpdated | VenueAddressChanged | VenueGeocoded | VenueGeocodeFailed;

export interface VenueSectionSummary {
  id: string;
  name: string;
  rows: number;
  seats: number;
}

/** pending: the current address is not geocoded yet; failed: the last attempt failed. */
export type GeocodingStatus = "pending" | "located" | "failed";

export interface VenueDoc extends ReadDoc {
  id: string;
  name: string;
  /** Lower-cased name for a case-insensitive search (see searchKey). */
  nameKey: string;
  address: string;
  city: string;
  cityKey: string;
  timezone: string;
  capacity: number;
  /** True when the venue has a seating plan. */
  seated: boolean;
  sections: VenueSectionSummary[];
  ownerOrganizerId: string | null;
  location: { lat: number; lon: number } | null;
  formattedAddress: string | null;
  geocoding: { status: GeocodingStatus; at: number | null; failure: ExternalFailure | null };
  createdAt: number;
  updatedAt: number;
}

export function venueStream(id: string): string {
  return `venue-${id}`;
}
