/**
 * Address → coordinates. Quotas are small and answers slow, so callers geocode in the
 * background and cache results; nothing on a user's request path should wait for this.
 */
import { PortError } from "../http";

export interface GeocodeResult {
  lat: number;
  lon: number;
  /** The address as the geocoder understood it; show it so a wrong match is noticed. */
  formatted: string;
  /** How closely the match fits, e.g. `exact`, `number`, `street`, `other`. */
  precision?: string;
  /** What was found, e.g. `house`, `street`, `locality`. */
  kind?: string;
}

export interface GeocodeOptions {
  /** Language of `formatted`, e.g. `ru_RU`, `en_US`. */
  lang?: string;
}

export interface Geocoder {
  /** `null` when nothing matches the address. */
  geocode(address: string, opts?: GeocodeOptions): Promise<GeocodeResult | null>;
}

export type GeocoderErrorCode =
  | "GEOCODER_INVALID_REQUEST"
  | "GEOCODER_UNAUTHORIZED"
  | "GEOCODER_RATE_LIMITED"
  | "GEOCODER_UNAVAILABLE"
  | "GEOCODER_BAD_RESPONSE";

export class GeocoderError extends PortError<GeocoderErrorCode> {}

/** The address was empty or the service rejected the request (400). Retrying will not help. */
export class GeocoderInvalidRequestError extends GeocoderError {
  constructor(message: string, status?: number) {
    super("GEOCODER_INVALID_REQUEST", message, false, { status });
  }
}

/** The API key was refused (401/403): a configuration problem, or the daily quota is spent. */
export class GeocoderUnauthorizedError extends GeocoderError {
  constructor(message: string, status: number) {
    super("GEOCODER_UNAUTHORIZED", message, false, { status });
  }
}

export class GeocoderRateLimitedError extends GeocoderError {
  /** When the service said how long to wait. */
  readonly retryAfterSeconds?: number;

  constructor(message: string, retryAfterSeconds: number | undefined) {
    super("GEOCODER_RATE_LIMITED", message, true, { status: 429 });
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 5xx, timeout or network failure, after the client's own retries. */
export class GeocoderUnavailableError extends GeocoderError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super("GEOCODER_UNAVAILABLE", message, true, options);
  }
}

/** The answer does not match the documented contract. */
export class GeocoderBadResponseError extends GeocoderError {
  constructor(message: string, status?: number) {
    super("GEOCODER_BAD_RESPONSE", message, false, { status });
  }
}
