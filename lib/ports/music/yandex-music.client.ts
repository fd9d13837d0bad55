import { fetchJson, HttpTransportError, isRecord, redact, type JsonResponse } from "../http";
import {
  MusicBadResponseError,
  MusicInvalidIdError,
  MusicUnauthorizedError,
  MusicUnavailableError,
  type ExternalAlbum,
  type ExternalArtist,
  type MusicCatalog,
} from "./music.port";
import { parseAlbumsPage, parseBriefInfo } from "./yandex-music.parse";

export interface YandexMusicOptions {
  /** Default `https://api.music.yandex.net`; the simulator's URL in tests and the quick start. */
  baseUrl?: string;
  /** OAuth token; public artist data is served without one. */
  token?: string;
  /** Budget for a whole `getArtist` call, every request, retry and page included; default 3000 ms. */
  timeoutMs?: number;
  /** One retry at most: a slow catalogue must not hold up whoever is waiting for the artist. */
  retries?: 0 | 1;
  /** Pause before the retry; default 100 ms. */
  backoffMs?: number;
  /** Pages of `direct-albums` to follow; default 5. */
  maxAlbumPages?: number;
  /** Albums asked for per page; default 20. */
  pageSize?: number;
  /** Substituted into cover URI templates; default `200x200`. */
  coverSize?: string;
}

export const YANDEX_MUSIC_URL = "https://api.music.yandex.net";

/** Positive decimal integers only: the id goes into a URL path. */
const ARTIST_ID = /^[1-9]\d{0,17}$/;

/** Yandex Music's unofficial mobile API: `brief-info` for the artist, `direct-albums` for the albums. */
export class YandexMusicClient implements MusicCatalog {
  private readonly base: URL;
  private readonly token?: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxAlbumPages: number;
  private readonly pageSize: number;
  private readonly coverSize: string;

  constructor(options: YandexMusicOptions = {}) {
    const base = options.baseUrl ?? YANDEX_MUSIC_URL;
    this.base = new URL(base.endsWith("/") ? base : `${base}/`);
    if (options.token) this.token = options.token;
    this.timeoutMs = positive(options.timeoutMs ?? 3000, "timeoutMs");
    this.retries = options.retries ?? 1;
    this.backoffMs = options.backoffMs ?? 100;
    this.maxAlbumPages = positive(options.maxAlbumPages ?? 5, "maxAlbumPages");
    this.pageSize = positive(options.pageSize ?? 20, "pageSize");
    this.coverSize = options.coverSize ?? "200x200";
  }

  async getArtist(externalId: string): Promise<ExternalArtist | null> {
    if (!ARTIST_ID.test(externalId)) {
      throw new MusicInvalidIdError(`${JSON.stringify(externalId.slice(0, 40))} is not a Yandex Music artist id`);
    }
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const brief = await this.get(`artists/${externalId}/brief-info`, {}, deadline, (json) =>
      parseBriefInfo(json, this.coverSize),
    );
    if (brief === null) return null;
    if (brief.artist.id !== externalId) {
      throw new MusicBadResponseError(`brief-info for artist ${externalId} describes artist ${brief.artist.id}`);
    }
    const albums = await this.directAlbums(externalId, deadline);
    return { ...brief.artist, albums, popularTracks: brief.popularTracks };
  }

  private async directAlbums(artistId: string, deadline: AbortSignal): Promise<ExternalAlbum[]> {
    const albums = new Map<string, ExternalAlbum>();
    for (let page = 0; page < this.maxAlbumPages; page++) {
      const query = { page: String(page), "page-size": String(this.pageSize), "sort-by": "year" };
      const result = await this.get(`artists/${artistId}/direct-albums`, query, deadline, (json) =>
        parseAlbumsPage(json, this.coverSize),
      );
      if (result === null) throw new MusicBadResponseError(`direct-albums does not know artist ${artistId}`);
      // Keyed by id: a release published between two page requests shifts the list by one.
      for (const album of result.albums) if (!albums.has(album.id)) albums.set(album.id, album);
      if (!result.pager || result.albums.length === 0 || albums.size >= result.pager.total) break;
    }
    return [...albums.values()];
  }

  /** `null` on 404; every other failure becomes a typed error. */
  private async get<T>(
    path: string,
    query: Record<string, string>,
    deadline: AbortSignal,
    parse: (json: unknown) => T,
  ): Promise<T | null> {
    const url = new URL(path, this.base);
    url.search = new URLSearchParams(query).toString();
    let response: JsonResponse;
    try {
      response = await fetchJson({
        url,
        headers: this.token ? { authorization: `OAuth ${this.token}` } : {},
        attemptTimeoutMs: this.timeoutMs,
        retries: this.retries,
        backoffMs: this.backoffMs,
        deadline,
      });
    } catch (error) {
      if (!(error instanceof HttpTransportError)) throw error;
      throw new MusicUnavailableError(`Yandex Music unavailable: ${error.message}`, { cause: error });
    }

    const { status, json } = response;
    if (status === 200) {
      if (json === undefined) throw new MusicBadResponseError(`${path} answered 200 with a body that is not JSON`, status);
      return parse(json);
    }
    if (status === 404) return null;
    const detail = `Yandex Music answered ${status} to ${path}${this.describe(json)}`;
    if (status === 400) throw new MusicInvalidIdError(detail, status);
    if (status === 401 || status === 403) throw new MusicUnauthorizedError(detail, status);
    if (status === 429 || status >= 500) throw new MusicUnavailableError(detail, { status });
    throw new MusicBadResponseError(detail, status);
  }

  /** Errors come as `{invocationInfo, error: {name, message}}`. */
  private describe(json: unknown): string {
    const error = isRecord(json) ? json.error : undefined;
    if (!isRecord(error)) return "";
    const parts = [error.name, error.message].filter((part): part is string => typeof part === "string");
    return parts.length === 0 ? "" : `: ${redact(parts.join(": "), [this.token])}`;
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`YandexMusicClient: ${name} must be > 0`);
  return value;
}
