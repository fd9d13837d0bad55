import { actingOrganizer, alreadyExists, isAdmin, notFound, requireAdmin, requireOwner } from "../../lib/domain/actor";
import { externalFailure, sameFailure } from "../../lib/domain/failure";
import { id } from "../../lib/domain/ids";
import { compact, deepEqual } from "../../lib/domain/objects";
import { array, invalid, nonNegativeInt, optionalText, positiveInt, record, text, webUrl } from "../../lib/domain/validation";
import type { Decider } from "../../lib/eventlog/decider";
import type {
  Album,
  Artist,
  ArtistCommand,
  ArtistEvent,
  ArtistLink,
  ArtistSnapshot,
  ArtistState,
  CreateArtist,
  Discography,
  RecordDiscography,
  RecordDiscographyFailure,
  Track,
  UpdateArtist,
} from "./artists.types";

const NAME = { max: 200 };
const MAX_GENRES = 10;
const MAX_LINKS = 20;
const MAX_ALBUMS = 1000;
const MAX_TRACKS = 100;

function decideCreate(command: CreateArtist, state: ArtistState): ArtistEvent[] {
  const ownerOrganizerId = isAdmin(command.actor) ? undefined : actingOrganizer(command.actor);
  const artistId = id(command.id, "id");
  if (state) throw alreadyExists("artist", artistId);
  return [
    {
      type: "ArtistCreated",
      data: compact({
        id: artistId,
        name: text(command.name, "name", NAME),
        genres: genres(command.genres ?? []),
        links: links(command.links ?? []),
        yandexMusicId: command.yandexMusicId === undefined ? undefined : musicId(command.yandexMusicId),
        ownerOrganizerId,
      }),
    },
  ];
}

function decideUpdate(command: UpdateArtist, state: ArtistState): ArtistEvent[] {
  if (!state) throw notFound("artist", command.id);
  requireOwner(command.actor, state.ownerOrganizerId, "this artist");
  const name = optionalText(command.name, "name", NAME);
  const nextGenres = command.genres === undefined ? undefined : genres(command.genres);
  const nextLinks = command.links === undefined ? undefined : links(command.links);
  const nextMusicId =
    command.yandexMusicId === undefined || command.yandexMusicId === null
      ? command.yandexMusicId
      : musicId(command.yandexMusicId);

  const events: ArtistEvent[] = [];
  const changes = compact({
    name: name !== undefined && name !== state.name ? name : undefined,
    genres: nextGenres && !deepEqual(nextGenres, state.genres) ? nextGenres : undefined,
    links: nextLinks && !deepEqual(nextLinks, state.links) ? nextLinks : undefined,
  });
  if (Object.keys(changes).length > 0) events.push({ type: "ArtistUpdated", data: { id: state.id, ...changes } });
  if (nextMusicId !== undefined && nextMusicId !== (state.yandexMusicId ?? null)) {
    events.push({ type: "ArtistMusicIdChanged", data: { id: state.id, yandexMusicId: nextMusicId } });
  }
  return events;
}

/**
 * Sync results are dropped, not refused, when they no longer apply (the music id changed
 * meanwhile, or a newer result is in): the sync did nothing wrong and must not retry.
 */
function stillApplies(state: Artist, yandexMusicId: string, at: number): boolean {
  return yandexMusicId === state.yandexMusicId && !(state.discography && at < state.discography.fetchedAt);
}

function decideDiscography(command: RecordDiscography, state: ArtistState): ArtistEvent[] {
  requireAdmin(command.actor, "record a discography");
  if (!state) throw notFound("artist", command.id);
  const fetchedAt = nonNegativeInt(command.fetchedAt, "fetchedAt");
  if (!stillApplies(state, command.yandexMusicId, fetchedAt)) return [];
  const current = state.discography;
  const discography: Discography = compact({
    fetchedAt,
    albums: array(command.albums, "albums", MAX_ALBUMS).map((a, i) => album(a, `albums[${i}]`)),
    popularTracks: array(command.popularTracks, "popularTracks", MAX_TRACKS).map((t, i) => track(t, `popularTracks[${i}]`)),
    coverUrl: command.coverUrl === undefined ? undefined : webUrl(command.coverUrl, "coverUrl"),
  });
  const unchanged = current && !state.syncFailure && deepEqual({ ...discography, fetchedAt: 0 }, { ...current, fetchedAt: 0 });
  if (unchanged) return [];
  return [{ type: "DiscographySynced", data: { id: state.id, yandexMusicId: command.yandexMusicId, discography } }];
}

function decideFailure(command: RecordDiscographyFailure, state: ArtistState): ArtistEvent[] {
  requireAdmin(command.actor, "record a discography failure");
  if (!state) throw notFound("artist", command.id);
  const failure = externalFailure(command.at, command.code, command.message);
  if (!stillApplies(state, command.yandexMusicId, failure.at) || sameFailure(state.syncFailure, failure)) return [];
  return [{ type: "DiscographySyncFailed", data: { id: state.id, yandexMusicId: command.yandexMusicId, failure } }];
}

function genres(value: unknown): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  array(value, "genres", 100).forEach((g, i) => {
    const genre = text(g, `genres[${i}]`, { max: 50 });
    const key = genre.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    result.push(genre);
  });
  if (result.length > MAX_GENRES) throw invalid("genres", `must have at most ${MAX_GENRES} distinct genres`);
  return result;
}

function links(value: unknown): ArtistLink[] {
  const byUrl = new Map<string, ArtistLink>();
  array(value, "links", MAX_LINKS).forEach((l, i) => {
    const input = record(l, `links[${i}]`);
    const link = { kind: text(input.kind, `links[${i}].kind`, { max: 30 }), url: webUrl(input.url, `links[${i}].url`) };
    if (!byUrl.has(link.url)) byUrl.set(link.url, link);
  });
  return [...byUrl.values()];
}

function musicId(value: unknown): string {
  if (typeof value !== "string" || !/^\d{1,20}$/.test(value))
    throw invalid("yandexMusicId", "must be a numeric Yandex Music artist id");
  return value;
}

function album(value: unknown, field: string): Album {
  const input = record(value, field);
  return compact({
    id: text(input.id, `${field}.id`, { max: 64 }),
    title: text(input.title, `${field}.title`, { max: 500 }),
    year: input.year === undefined ? undefined : positiveInt(input.year, `${field}.year`),
    trackCount: input.trackCount === undefined ? undefined : nonNegativeInt(input.trackCount, `${field}.trackCount`),
    coverUrl: input.coverUrl === undefined ? undefined : webUrl(input.coverUrl, `${field}.coverUrl`),
  });
}

function track(value: unknown, field: string): Track {
  const input = record(value, field);
  return compact({
    id: text(input.id, `${field}.id`, { max: 64 }),
    title: text(input.title, `${field}.title`, { max: 500 }),
    durationMs: input.durationMs === undefined ? undefined : nonNegativeInt(input.durationMs, `${field}.durationMs`),
  });
}

export const artistDecider: Decider<ArtistCommand, ArtistEvent, ArtistState> = {
  initialState: () => null,
  decide: (command, state) => {
    switch (command.type) {
      case "CreateArtist":
        return decideCreate(command, state);
      case "UpdateArtist":
        return decideUpdate(command, state);
      case "RecordDiscography":
        return decideDiscography(command, state);
      case "RecordDiscographyFailure":
        return decideFailure(command, state);
    }
  },
  evolve: (state, event) => {
    if (event.type === "ArtistCreated") return event.data;
    const current = created(state);
    switch (event.type) {
      case "ArtistUpdated": {
        const { name, genres: nextGenres, links: nextLinks } = event.data;
        return {
          ...current,
          name: name ?? current.name,
          genres: nextGenres ?? current.genres,
          links: nextLinks ?? current.links,
        };
      }
      case "ArtistMusicIdChanged": {
        // The old discography belongs to another catalogue entry: never show it under the new id.
        const { discography: _discography, syncFailure: _failure, yandexMusicId: _old, ...rest } = current;
        return compact({ ...rest, yandexMusicId: event.data.yandexMusicId ?? undefined });
      }
      case "DiscographySynced": {
        const { syncFailure: _failure, ...rest } = current;
        return { ...rest, discography: event.data.discography };
      }
      case "DiscographySyncFailed":
        return { ...current, syncFailure: event.data.failure };
    }
  },
};

function created(state: ArtistState): Artist {
  if (!state) throw new Error("artist stream has an event before its creation");
  return state;
}

/** What an event keeps of an artist (the service loads it before creating or editing an event). */
export function artistSnapshot(state: ArtistState): ArtistSnapshot | null {
  return state && { id: state.id, name: state.name };
}

/** The music id the service should fetch after this event, if any. */
export function musicIdToSync(event: ArtistEvent): string | null {
  if (event.type === "ArtistCreated") return event.data.yandexMusicId ?? null;
  if (event.type === "ArtistMusicIdChanged") return event.data.yandexMusicId;
  return null;
}
