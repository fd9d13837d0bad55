/**
 * Local stand-in for the Yandex Music endpoints the client uses, with the same paths, query
 * parameters and `{invocationInfo, result}` envelope.
 */
import { startJsonSimulator, type JsonSimulator, type SimulatedRequest, type SimulatedResponse } from "../http";
import { BUILT_IN_ARTISTS, type SimulatedAlbum, type SimulatedArtist } from "./music.artists";

export type { SimulatedAlbum, SimulatedArtist, SimulatedTrack } from "./music.artists";

export interface MusicSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** When set, requests must carry `Authorization: OAuth <token>`. */
  token?: string;
  /** Added to the built-in artists; the same id replaces a built-in one. */
  artists?: SimulatedArtist[];
}

export type MusicSimulator = JsonSimulator;

/** How many albums `brief-info` embeds; the full list is `direct-albums`' job. */
const BRIEF_ALBUMS = 10;

export function startMusicSimulator(options: MusicSimulatorOptions = {}): Promise<MusicSimulator> {
  const artists = new Map<string, SimulatedArtist>();
  for (const artist of [...BUILT_IN_ARTISTS, ...(options.artists ?? [])]) artists.set(String(artist.id), artist);
  let served = 0;
  const reply = (status: number, body: Record<string, unknown>): SimulatedResponse => ({
    status,
    body: { invocationInfo: { hostname: "music-simulator", "req-id": `sim-${++served}`, "exec-duration-millis": 0 }, ...body },
  });
  const fail = (status: number, message?: string) => reply(status, { error: yandexError(status, message) });

  return startJsonSimulator({
    port: options.port,
    errorBody: (status) => fail(status).body,
    route(request: SimulatedRequest): SimulatedResponse {
      if (options.token !== undefined && request.headers.authorization !== `OAuth ${options.token}`) return fail(401);
      const match = /^\/artists\/([^/]+)\/(brief-info|direct-albums)$/.exec(request.path);
      if (!match) return fail(404, "Unknown method");
      const [, id, method] = match;
      if (!/^\d+$/.test(id)) return fail(400, "Parameter artistId is invalid");
      const artist = artists.get(id);
      if (!artist) return fail(404, "Artist not found");
      if (method === "brief-info") return reply(200, { result: briefInfo(artist) });

      const page = Number(request.query.get("page") ?? "0");
      const perPage = Number(request.query.get("page-size") ?? "20");
      if (!Number.isInteger(page) || page < 0 || !Number.isInteger(perPage) || perPage < 1) {
        return fail(400, "Parameters page and page-size must be non-negative integers");
      }
      const ordered = request.query.get("sort-by") === "year" ? byYearDesc(artist.albums) : artist.albums;
      return reply(200, {
        result: {
          albums: ordered.slice(page * perPage, (page + 1) * perPage).map((album) => rawAlbum(album, artist)),
          pager: { page, perPage, total: ordered.length },
        },
      });
    },
  });
}

const ERROR_NAMES: Record<number, string> = {
  400: "validate",
  401: "session-expired",
  403: "forbidden",
  404: "not-found",
  405: "method-not-allowed",
  429: "too-many-requests",
};

function yandexError(status: number, message?: string): { name: string; message: string } {
  const name = ERROR_NAMES[status] ?? "internal-error";
  return { name, message: message ?? (status === 401 ? "Your OAuth token is invalid or expired" : name) };
}

function byYearDesc(albums: SimulatedAlbum[]): SimulatedAlbum[] {
  return [...albums].sort((a, b) => (b.year ?? 0) - (a.year ?? 0));
}

function briefInfo(artist: SimulatedArtist): unknown {
  const ref = { id: artist.id, name: artist.name };
  const albums = byYearDesc(artist.albums);
  return {
    artist: {
      ...ref,
      various: false,
      composer: false,
      available: true,
      genres: artist.genres,
      ...(artist.coverUri && { cover: { type: "from-artist-photos", prefix: `sim${artist.id}`, uri: artist.coverUri } }),
      counts: { tracks: artist.popularTracks.length, directAlbums: albums.length, alsoAlbums: 0, alsoTracks: 0 },
    },
    albums: albums.slice(0, BRIEF_ALBUMS).map((album) => rawAlbum(album, artist)),
    alsoAlbums: [],
    lastReleaseIds: albums.slice(0, 1).map((album) => album.id),
    popularTracks: artist.popularTracks.map((track) => ({
      ...track,
      realId: track.id,
      available: true,
      type: "music",
      artists: [ref],
    })),
    similarArtists: [],
    allCovers: [],
    concerts: [],
    videos: [],
    vinyls: [],
    hasPromotions: false,
    playlistIds: [],
  };
}

function rawAlbum(album: SimulatedAlbum, artist: SimulatedArtist): unknown {
  return {
    ...album,
    metaType: "music",
    available: true,
    ...(album.year !== undefined && { releaseDate: `${album.year}-03-01T00:00:00+03:00` }),
    ...(album.coverUri && { ogImage: album.coverUri }),
    artists: [{ id: artist.id, name: artist.name }],
  };
}
