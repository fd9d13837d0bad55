import { MusicBadResponseError } from "../../../lib/ports/music/music.port";
import { coverUrl, parseAlbumsPage, parseBriefInfo } from "../../../lib/ports/music/yandex-music.parse";

const wrap = (result: unknown) => ({ invocationInfo: { hostname: "h", "req-id": "r" }, result });

describe("coverUrl", () => {
  it("adds the scheme and the size to a template", () => {
    expect(coverUrl("avatars.yandex.net/get-music-content/1/x.a.2-1/%%", "400x400")).toBe(
      "https://avatars.yandex.net/get-music-content/1/x.a.2-1/400x400",
    );
  });

  it("keeps an explicit scheme and copes with a protocol-relative URI", () => {
    expect(coverUrl("http://img.example/a/%%", "50x50")).toBe("http://img.example/a/50x50");
    expect(coverUrl("//avatars.yandex.net/a/%%", "50x50")).toBe("https://avatars.yandex.net/a/50x50");
  });
});

describe("parseBriefInfo", () => {
  it("keeps the fields we use and ignores the rest", () => {
    const info = parseBriefInfo(
      wrap({
        artist: { id: 41, name: "A", genres: ["rock"], cover: { type: "from-artist-photos", uri: "c.net/a/%%" }, counts: {} },
        albums: [{ anything: "ignored here" }],
        popularTracks: [
          { id: "7", title: "T", durationMs: 1000, realId: "7", albums: [] },
          { id: 8, title: "U" },
        ],
        similarArtists: [],
      }),
      "200x200",
    );
    expect(info).toEqual({
      artist: { id: "41", name: "A", genres: ["rock"], coverUrl: "https://c.net/a/200x200" },
      popularTracks: [
        { id: "7", title: "T", durationMs: 1000 },
        { id: "8", title: "U" },
      ],
    });
  });

  it.each([
    ["no result envelope", { artist: { id: 1, name: "A" } }],
    ["no artist", wrap({})],
    ["a nameless artist", wrap({ artist: { id: 1 } })],
    ["a non-numeric artist id", wrap({ artist: { id: "x1", name: "A" } })],
    ["genres that are not strings", wrap({ artist: { id: 1, name: "A", genres: [1] } })],
    ["a track without title", wrap({ artist: { id: 1, name: "A" }, popularTracks: [{ id: "1" }] })],
    [
      "a duration that is a string",
      wrap({ artist: { id: 1, name: "A" }, popularTracks: [{ id: "1", title: "t", durationMs: "1" }] }),
    ],
  ])("rejects %s", (_, body) => {
    expect(() => parseBriefInfo(body, "200x200")).toThrow(MusicBadResponseError);
  });
});

describe("parseAlbumsPage", () => {
  it("reads albums and the pager", () => {
    const page = parseAlbumsPage(
      wrap({
        albums: [{ id: 5, title: "X", year: 2001, trackCount: 3, genre: "pop", coverUri: "c.net/x/%%", labels: [] }],
        pager: { page: 1, perPage: 20, total: 21 },
      }),
      "100x100",
    );
    expect(page).toEqual({
      albums: [{ id: "5", title: "X", year: 2001, trackCount: 3, genre: "pop", coverUrl: "https://c.net/x/100x100" }],
      pager: { page: 1, perPage: 20, total: 21 },
    });
  });

  it("treats a missing pager as the last page", () => {
    expect(parseAlbumsPage(wrap({ albums: [] }), "100x100")).toEqual({ albums: [] });
  });

  it.each([
    ["albums that are not an array", wrap({ albums: {} })],
    ["an album year that is a string", wrap({ albums: [{ id: 1, title: "X", year: "2001" }] })],
    ["a negative total", wrap({ albums: [], pager: { page: 0, perPage: 20, total: -1 } })],
  ])("rejects %s", (_, body) => {
    expect(() => parseAlbumsPage(body, "100x100")).toThrow(MusicBadResponseError);
  });
});
