import { fetchJson, HttpTransportError, integerSetting, isRecord, parseRetryAfter, redact, type JsonResponse } from "../http";
import {
  GeocoderBadResponseError,
  GeocoderInvalidRequestError,
  GeocoderRateLimitedError,
  GeocoderUnauthorizedError,
  GeocoderUnavailableError,
  type GeocodeOptions,
  type GeocodeResult,
  type Geocoder,
} from "./geocoder.port";
import { parseGeocodeResponse } from "./yandex-geocoder.parse";

export interface YandexGeocoderOptions {
  apiKey: string;
  /** Default `https://geocode-maps.yandex.ru`; the simulator's URL in tests and the quick start. */
  baseUrl?: string;
  /** Default language of `formatted`; default `ru_RU`. */
  lang?: string;
  /** Per attempt; default 5000 ms. */
  timeoutMs?: number;
  /** Extra attempts after 5xx, timeouts and network errors; default 2. */
  retries?: number;
  /** Pause before the first retry, doubled for each next one; default 250 ms. */
  backoffMs?: number;
}

export const YANDEX_GEOCODER_URL = "https://geocode-maps.yandex.ru";

/** Yandex Geocoder HTTP API (`GET /v1/?apikey=…&geocode=…&format=json`). */
export class YandexGeocoderClient implements Geocoder {
  private readonly endpoint: URL;
  private readonly apiKey: string;
  private readonly lang: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(options: YandexGeocoderOptions) {
    if (options.apiKey.trim() === "") throw new TypeError("YandexGeocoderClient: apiKey is empty");
    const base = options.baseUrl ?? YANDEX_GEOCODER_URL;
    // Relative to the base so that a base with a path prefix (behind a proxy) keeps it.
    this.endpoint = new URL("v1/", base.endsWith("/") ? base : `${base}/`);
    this.apiKey = options.apiKey;
    this.lang = options.lang ?? "ru_RU";
    this.timeoutMs = nonNegative(options.timeoutMs ?? 5000, "timeoutMs");
    this.retries = nonNegative(options.retries ?? 2, "retries");
    this.backoffMs = nonNegative(options.backoffMs ?? 250, "backoffMs");
  }

  async geocode(address: string, opts: GeocodeOptions = {}): Promise<GeocodeResult | null> {
    const query = address.trim();
    if (query === "") throw new GeocoderInvalidRequestError("address is empty");

    const url = new URL(this.endpoint);
    url.search = new URLSearchParams({
      apikey: this.apiKey,
      geocode: query,
      lang: opts.lang ?? this.lang,
      format: "json",
    }).toString();

    let response: JsonResponse;
    try {
      response = await fetchJson({
        url,
        attemptTimeoutMs: this.timeoutMs,
        retries: this.retries,
        backoffMs: this.backoffMs,
      });
    } catch (error) {
      if (!(error instanceof HttpTransportError)) throw error;
      throw new GeocoderUnavailableError(`geocoder unreachable: ${this.safe(error.message)}`, { cause: error });
    }
    return this.interpret(response);
  }

  private interpret({ status, headers, json }: JsonResponse): GeocodeResult | null {
    if (status === 200) {
      if (json === undefined) throw new GeocoderBadResponseError("geocoder answered 200 with a body that is not JSON", status);
      return parseGeocodeResponse(json);
    }
    const detail = `geocoder answered ${status}${this.describe(json)}`;
    if (status === 400) throw new GeocoderInvalidRequestError(detail, status);
    if (status === 401 || status === 403) throw new GeocoderUnauthorizedError(detail, status);
    if (status === 429) throw new GeocoderRateLimitedError(detail, parseRetryAfter(headers.get("retry-after")));
    if (status >= 500) throw new GeocoderUnavailableError(detail, { status });
    throw new GeocoderBadResponseError(detail, status);
  }

  /** Yandex errors look like `{statusCode, error, message}`; the message says what was wrong. */
  private describe(json: unknown): string {
    return isRecord(json) && typeof json.message === "string" ? `: ${this.safe(json.message)}` : "";
  }

  private safe(text: string): string {
    return redact(text, [this.apiKey]);
  }
}

function nonNegative(value: number, name: string): number {
  return integerSetting("YandexGeocoderClient", name, value, 0);
}
