import { jsonReader } from "../http";
import { GeocoderBadResponseError, type GeocodeResult } from "./geocoder.port";

const bad = (problem: string) => new GeocoderBadResponseError(`unexpected geocoder answer: ${problem}`);
const read = jsonReader(bad);

/** Reads the first match of a Yandex Geocoder JSON answer; `null` when it found nothing. */
export function parseGeocodeResponse(json: unknown): GeocodeResult | null {
  const collection = read.record(
    read.record(read.record(json, "body").response, "response").GeoObjectCollection,
    "response.GeoObjectCollection",
  );
  const meta = read.record(
    read.record(collection.metaDataProperty, "GeoObjectCollection.metaDataProperty").GeocoderResponseMetaData,
    "GeocoderResponseMetaData",
  );
  const found = parseCount(meta.found);
  const members = read.array(collection.featureMember, "GeoObjectCollection.featureMember");
  if (found === 0 || members.length === 0) return null;

  const geoObject = read.record(read.record(members[0], "featureMember[0]").GeoObject, "featureMember[0].GeoObject");
  const { lat, lon } = parsePos(read.string(read.record(geoObject.Point, "GeoObject.Point").pos, "GeoObject.Point.pos"));
  const geocoderMeta = read.record(
    read.record(geoObject.metaDataProperty, "GeoObject.metaDataProperty").GeocoderMetaData,
    "GeoObject.metaDataProperty.GeocoderMetaData",
  );
  const address = geocoderMeta.Address === undefined ? undefined : read.record(geocoderMeta.Address, "GeocoderMetaData.Address");
  // `Address.formatted` is the documented field; `text` carries the same line in older answers.
  const formatted =
    read.optionalString(address?.formatted, "GeocoderMetaData.Address.formatted") ??
    read.string(geocoderMeta.text, "GeocoderMetaData.text");

  const result: GeocodeResult = { lat, lon, formatted };
  const precision = read.optionalString(geocoderMeta.precision, "GeocoderMetaData.precision");
  const kind = read.optionalString(geocoderMeta.kind, "GeocoderMetaData.kind");
  if (precision !== undefined) result.precision = precision;
  if (kind !== undefined) result.kind = kind;
  return result;
}

/** `Point.pos` is "longitude latitude", the reverse of the usual reading order. */
export function parsePos(pos: string): { lat: number; lon: number } {
  const parts = pos.trim().split(/\s+/);
  const [lon, lat] = parts.map(Number);
  if (parts.length !== 2 || !isCoordinate(lon, 180) || !isCoordinate(lat, 90)) {
    throw bad(`Point.pos "${pos}" is not "lon lat"`);
  }
  return { lat, lon };
}

/** `found` is documented as a string of digits; a plain number is accepted too. */
function parseCount(value: unknown): number {
  const count = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
    throw bad("GeocoderResponseMetaData.found is not a count");
  }
  return count;
}

function isCoordinate(value: number | undefined, limit: number): value is number {
  return value !== undefined && Number.isFinite(value) && Math.abs(value) <= limit;
}
