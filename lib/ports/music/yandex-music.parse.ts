/**
 * Readers for the Yandex Music answers the client uses. Only the fields we keep are checked
 * (strictly: a wrong type fails the answer); everything else in these large objects is ignored.
 * Shapes follow the public unofficial clients, e.g. MarshalX/yandex-music-api.
 */
import { jsonReader } from "../http";
import { MusicBadResponseError, type ExternalAlbum, type ExternalArtist, type ExternalTrack } from "./music.port";

const bad = (problem: string) => new MusicBadResponseError(`unexpected Yandex Music answer: ${problem}`);
const read = jsonReader(bad);

export type ArtistSummary = Omit<ExternalArtist, "albums" | "popularTracks">;

export interface BriefInfo {
  artist: ArtistSummary;
  popularTracks: ExternalTrack[];
}

export interface Pager {
  page: number;
  perPage: number;
  total: number;
}

export interface AlbumsPage {
  albums: ExternalAlbum[];
  /** Absent when the service sends no pager: then there is nothing beyond this page. */
  pager?: Pager;
}

/** Every answer is wrapped as `{invocationInfo, result}`. */
export function unwrapResult(json: unknown): Record<string, unknown> {
  return read.record(read.record(json, "body").result, "result");
}

/** `GET /artists/{id}/brief-info`: the artist and their popular tracks. */
export function parseBriefInfo(json: unknown, coverSize: string): BriefInfo {
  const result = unwrapResult(json);
  const raw = read.record(result.artist, "result.artist");
  const artist: ArtistSummary = {
    id: read.id(raw.id, "artist.id"),
    name: read.string(raw.name, "artist.name"),
    genres: (raw.genres === undefined ? [] : read.array(raw.genres, "artist.genres")).map((genre, i) =>
      read.string(genre, `artist.genres[${i}]`),
    ),
  };
  const cover = raw.cover === undefined || raw.cover === null ? undefined : read.record(raw.cover, "artist.cover");
  const coverUri = read.optionalString(cover?.uri, "artist.cover.uri");
  if (coverUri) artist.coverUrl = coverUrl(coverUri, coverSize);

  const tracks = result.popularTracks === undefined ? [] : read.array(result.popularTracks, "result.popularTracks");
  return { artist, popularTracks: tracks.map((track, i) => parseTrack(track, `popularTracks[${i}]`)) };
}

/** `GET /artists/{id}/direct-albums`: one page of the artist's own albums. */
export function parseAlbumsPage(json: unknown, coverSize: string): AlbumsPage {
  const result = unwrapResult(json);
  const albums = read.array(result.albums, "result.albums").map((album, i) => parseAlbum(album, `albums[${i}]`, coverSize));
  if (result.pager === undefined || result.pager === null) return { albums };
  const pager = read.record(result.pager, "result.pager");
  return {
    albums,
    pager: {
      page: count(pager.page, "pager.page"),
      perPage: count(pager.perPage, "pager.perPage"),
      total: count(pager.total, "pager.total"),
    },
  };
}

/** Cover URIs are templates without a scheme, `%%` standing for a size such as `200x200`. */
export function coverUrl(template: string, size: string): string {
  const sized = template.replace("%%", size);
  if (/^https?:\/\//.test(sized)) return sized;
  return `https://${sized.replace(/^\/+/, "")}`;
}

function parseAlbum(value: unknown, path: string, coverSize: string): ExternalAlbum {
  const raw = read.record(value, path);
  const album: ExternalAlbum = { id: read.id(raw.id, `${path}.id`), title: read.string(raw.title, `${path}.title`) };
  const year = read.optionalNumber(raw.year, `${path}.year`);
  const trackCount = read.optionalNumber(raw.trackCount, `${path}.trackCount`);
  const coverUri = read.optionalString(raw.coverUri, `${path}.coverUri`);
  const genre = read.optionalString(raw.genre, `${path}.genre`);
  if (year !== undefined) album.year = year;
  if (trackCount !== undefined) album.trackCount = trackCount;
  if (coverUri) album.coverUrl = coverUrl(coverUri, coverSize);
  if (genre) album.genre = genre;
  return album;
}

function parseTrack(value: unknown, path: string): ExternalTrack {
  const raw = read.record(value, path);
  // Catalogue tracks have numeric ids, user uploads have opaque string ones.
  const id = typeof raw.id === "number" ? read.id(raw.id, `${path}.id`) : read.string(raw.id, `${path}.id`);
  if (id === "") throw bad(`${path}.id is empty`);
  const track: ExternalTrack = { id, title: read.string(raw.title, `${path}.title`) };
  const durationMs = read.optionalNumber(raw.durationMs, `${path}.durationMs`);
  if (durationMs !== undefined) track.durationMs = durationMs;
  return track;
}

function count(value: unknown, path: string): number {
  const n = read.optionalNumber(value, path);
  if (n === undefined || !Number.isInteger(n) || n < 0) throw bad(`${path} is not a count`);
  return n;
}
