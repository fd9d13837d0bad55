/**
 * Local stand-in for the Yandex Geocoder: same URL, parameters and JSON envelope, so the real
 * client runs against it in tests and in the quick start without a key or a quota.
 */
import { createHash } from "node:crypto";
import { startJsonSimulator, type JsonSimulator, type SimulatedRequest, type SimulatedResponse } from "../http";
import { KNOWN_VENUES, type KnownVenue, type SimulatedPlace } from "./geocoder.places";

export type { SimulatedPlace } from "./geocoder.places";

export interface GeocoderSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** When set, only this key is accepted; otherwise any non-empty key is. */
  apiKey?: string;
  /** Extra places by address, matched before the built-in venues. */
  places?: Record<string, SimulatedPlace>;
  /** Unknown addresses are not found, instead of getting a made-up point. */
  strict?: boolean;
}

export type GeocoderSimulator = JsonSimulator;

export function startGeocoderSimulator(options: GeocoderSimulatorOptions = {}): Promise<GeocoderSimulator> {
  const configured: KnownVenue[] = Object.entries(options.places ?? {}).map(([address, place]) => ({
    ...place,
    aliases: [address],
  }));
  const catalogue = [...configured, ...KNOWN_VENUES];
  return startJsonSimulator({
    port: options.port,
    errorBody: yandexError,
    route: (request) => route(request, catalogue, options),
  });
}

function route(request: SimulatedRequest, catalogue: KnownVenue[], options: GeocoderSimulatorOptions): SimulatedResponse {
  const { query } = request;
  if (request.path !== "/v1/" && request.path !== "/v1") return { status: 404, body: yandexError(404) };
  const apiKey = query.get("apikey") ?? "";
  if (apiKey === "" || (options.apiKey !== undefined && apiKey !== options.apiKey)) {
    return { status: 403, body: yandexError(403) };
  }
  if (query.get("format") !== "json") {
    return { status: 400, body: yandexError(400, "The simulator answers format=json only") };
  }
  const address = (query.get("geocode") ?? "").trim();
  if (address === "") return { status: 400, body: yandexError(400, "Missing geocode parameter") };

  const place = lookup(address, catalogue) ?? (options.strict ? null : inventedPlace(address));
  return { status: 200, body: envelope(address, place) };
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

function yandexError(status: number, message?: string): unknown {
  const error = REASONS[status] ?? "Error";
  return { statusCode: status, error, message: message ?? (status === 403 ? "Invalid api key" : error) };
}

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/ё/g, "е")
    .replace(/[«»"'.,]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** An exact name or address first; else the longest known name inside the query ("Казань, Ак Барс Арена"). */
function lookup(address: string, catalogue: KnownVenue[]): SimulatedPlace | null {
  const wanted = normalize(address);
  let best: { venue: KnownVenue; length: number } | null = null;
  for (const venue of catalogue) {
    for (const alias of [...venue.aliases, venue.formatted].map(normalize)) {
      if (alias === wanted) return venue;
      if (wanted.includes(alias) && alias.length > (best?.length ?? 0)) best = { venue, length: alias.length };
    }
  }
  return best?.venue ?? null;
}

/**
 * A stable point derived from the address, inside a box that lies wholly in European Russia
 * and the Urals (54.5–60° N, 38–60° E), so any address "works" in the quick start.
 */
function inventedPlace(address: string): SimulatedPlace {
  const digest = createHash("sha256").update(normalize(address)).digest();
  const fraction = (offset: number) => digest.readUInt32BE(offset) / 0x1_0000_0000;
  return {
    lat: round(54.5 + fraction(0) * 5.5),
    lon: round(38 + fraction(4) * 22),
    formatted: normalize(address).startsWith("россия") ? address : `Россия, ${address}`,
    kind: "other",
    precision: "other",
  };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function envelope(request: string, place: SimulatedPlace | null): unknown {
  return {
    response: {
      GeoObjectCollection: {
        metaDataProperty: {
          GeocoderResponseMetaData: { request, results: "10", found: place ? "1" : "0" },
        },
        featureMember: place ? [{ GeoObject: geoObject(place) }] : [],
      },
    },
  };
}

function geoObject(place: SimulatedPlace): unknown {
  // Yandex names a house by street and number and describes it by the rest, most general last.
  const parts = place.formatted.split(", ");
  const pos = (dLon: number, dLat: number) => `${round(place.lon + dLon)} ${round(place.lat + dLat)}`;
  return {
    metaDataProperty: {
      GeocoderMetaData: {
        precision: place.precision ?? "exact",
        text: place.formatted,
        kind: place.kind ?? "house",
        Address: { country_code: "RU", formatted: place.formatted },
      },
    },
    name: parts.slice(-2).join(", "),
    description: parts.slice(0, -2).reverse().join(", "),
    boundedBy: { Envelope: { lowerCorner: pos(-0.004, -0.002), upperCorner: pos(0.004, 0.002) } },
    // Longitude first, as the real service does.
    Point: { pos: `${place.lon} ${place.lat}` },
  };
}
