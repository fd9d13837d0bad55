/** Contract test: the real Yandex Music client against the simulator, over a real socket. */
import { MusicError, type MusicErrorCode } from "../../../lib/ports/music/music.port";
import { startMusicSimulator, type MusicSimulator } from "../../../lib/ports/music/music.simulator";
import { YandexMusicClient, type YandexMusicOptions } from "../../../lib/ports/music/yandex-music.client";
import { rejection } from "./rejection";

const TOKEN = "y0_music-token-3c9d8e7f";

let sim: MusicSimulator;
let privateSim: MusicSimulator;

const clientFor = (target: MusicSimulator, options: Partial<YandexMusicOptions> = {}) =>
  new YandexMusicClient({ baseUrl: target.url, timeoutMs: 2000, backoffMs: 5, ...options });

const rejected = (promise: Promise<unknown>, code: MusicErrorCode) => rejection(promise, MusicError, code, TOKEN);

beforeAll(async () => {
  sim = await startMusicSimulator({
    artists: [
      {
        id: 777,
        name: "Contract Band",
        genres: ["indie"],
        coverUri: "avatars.yandex.net/get-music-content/1/contract.p.777/%%",
        albums: [{ id: 9001, title: "First", year: 2020, trackCount: 7, genre: "indie" }],
        popularTracks: [{ id: "424242", title: "Hit", durationMs: 180000 }],
      },
    ],
  });
  privateSim = await startMusicSimulator({ token: TOKEN });
});

afterEach(() => {
  sim.setFault(null);
});

afterAll(async () => {
  await Promise.all([sim.close(), privateSim.close()]);
});

describe("found", () => {
  it("returns the artist, albums and popular tracks with usable cover URLs", async () => {
    await expect(clientFor(sim).getArtist("777")).resolves.toEqual({
      id: "777",
      name: "Contract Band",
      genres: ["indie"],
      coverUrl: "https://avatars.yandex.net/get-music-content/1/contract.p.777/200x200",
      albums: [{ id: "9001", title: "First", year: 2020, trackCount: 7, genre: "indie" }],
      popularTracks: [{ id: "424242", title: "Hit", durationMs: 180000 }],
    });
  });

  it("follows direct-albums pages until every album is read, newest first", async () => {
    const before = sim.requests;
    const artist = await clientFor(sim).getArtist("1000003");
    expect(artist?.albums).toHaveLength(24);
    expect(new Set(artist?.albums.map((album) => album.id)).size).toBe(24);
    expect(artist?.albums[0]?.year).toBe(2024);
    expect(artist?.albums[23]?.year).toBe(2001);
    expect(sim.requests - before).toBe(3); // brief-info + two pages of 20
  });

  it("stops at maxAlbumPages", async () => {
    const artist = await clientFor(sim, { maxAlbumPages: 1 }).getArtist("1000003");
    expect(artist?.albums).toHaveLength(20);
  });

  it("handles an artist without albums or tracks", async () => {
    await expect(clientFor(sim).getArtist("1000004")).resolves.toMatchObject({ albums: [], popularTracks: [], genres: [] });
  });
});

describe("not found and invalid ids", () => {
  it("returns null for an unknown artist", async () => {
    await expect(clientFor(sim).getArtist("999999999")).resolves.toBeNull();
  });

  it.each(["", "abc", "12a", "0", "-5", "1.5", " 12", "12/../34", "1%2F2", "1".repeat(19)])(
    "rejects %j without a request",
    async (id) => {
      const before = sim.requests;
      await rejected(clientFor(sim).getArtist(id), "MUSIC_INVALID_ID");
      expect(sim.requests).toBe(before);
    },
  );
});

describe("authorization", () => {
  it("sends the OAuth token when configured", async () => {
    await expect(clientFor(privateSim, { token: TOKEN }).getArtist("1000002")).resolves.toMatchObject({ name: "Mira Sol" });
  });

  it("reports a missing or refused token as MUSIC_UNAUTHORIZED", async () => {
    const error = await rejected(clientFor(privateSim).getArtist("1000002"), "MUSIC_UNAUTHORIZED");
    expect(error.status).toBe(401);
    await rejected(clientFor(privateSim, { token: `${TOKEN}-stale` }).getArtist("1000002"), "MUSIC_UNAUTHORIZED");
  });
});

describe("failures", () => {
  it("retries a 500 once and returns the answer that follows", async () => {
    sim.setFault({ status: 500, times: 1 });
    await expect(clientFor(sim).getArtist("1000002")).resolves.toMatchObject({ name: "Mira Sol" });
  });

  it("gives up with MUSIC_UNAVAILABLE after one retry", async () => {
    sim.setFault({ status: 500 });
    const before = sim.requests;
    const error = await rejected(clientFor(sim).getArtist("1000002"), "MUSIC_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect(sim.requests - before).toBe(2);
  });

  it("times out quickly with MUSIC_UNAVAILABLE", async () => {
    sim.setFault({ delayMs: 5000 });
    const started = Date.now();
    await rejected(clientFor(sim, { timeoutMs: 200 }).getArtist("1000002"), "MUSIC_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("bounds the whole call, pagination included, by timeoutMs", async () => {
    // Each answer alone is well within the budget; brief-info and two album pages are not.
    sim.setFault({ delayMs: 250 });
    const started = Date.now();
    await rejected(clientFor(sim, { timeoutMs: 600 }).getArtist("1000003"), "MUSIC_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("reports a truncated body as MUSIC_BAD_RESPONSE", async () => {
    sim.setFault({ malformed: true, times: 1 });
    await rejected(clientFor(sim).getArtist("1000002"), "MUSIC_BAD_RESPONSE");
  });
});
