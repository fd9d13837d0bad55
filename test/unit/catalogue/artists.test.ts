import { artistDecider, artistSnapshot, musicIdToSync } from "../../../services/artists/artists.decider";
import {
  artistStream,
  type ArtistEvent,
  type CreateArtist,
  type RecordDiscography,
  type RecordDiscographyFailure,
  type UpdateArtist,
} from "../../../services/artists/artists.types";
import { NOW, admin, customer, given, organizerA, organizerB, refusal, system, when } from "./fixtures";

function create(fields: Partial<CreateArtist> = {}): CreateArtist {
  return { type: "CreateArtist", actor: organizerA, at: NOW, id: "zemfira", name: "Земфира", ...fields };
}

function update(fields: Partial<UpdateArtist> = {}): UpdateArtist {
  return { type: "UpdateArtist", actor: organizerA, at: NOW, id: "zemfira", ...fields };
}

const albums = [{ id: "a1", title: "Земфира", year: 1999, trackCount: 13 }];
const popularTracks = [{ id: "t1", title: "Хочешь?", durationMs: 215000 }];

function synced(fields: Partial<RecordDiscography> = {}): RecordDiscography {
  return {
    type: "RecordDiscography",
    actor: system,
    at: NOW,
    id: "zemfira",
    yandexMusicId: "41126",
    fetchedAt: NOW,
    albums,
    popularTracks,
    ...fields,
  };
}

function failed(fields: Partial<RecordDiscographyFailure> = {}): RecordDiscographyFailure {
  return {
    type: "RecordDiscographyFailure",
    actor: system,
    at: NOW + 1000,
    id: "zemfira",
    yandexMusicId: "41126",
    code: "MUSIC_UNAVAILABLE",
    message: "503 from the music service",
    ...fields,
  };
}

const created: ArtistEvent[] = [
  {
    type: "ArtistCreated",
    data: { id: "zemfira", name: "Земфира", genres: ["rock"], links: [], yandexMusicId: "41126", ownerOrganizerId: "org-a" },
  },
];

describe("artist decider", () => {
  it("names its stream artist-<id>", () => {
    expect(artistStream("zemfira")).toBe("artist-zemfira");
  });

  it("belongs to the organizer that creates it, and to nobody when an admin does", () => {
    expect(when(artistDecider, [], create())[0].data).toEqual({
      id: "zemfira",
      name: "Земфира",
      genres: [],
      links: [],
      ownerOrganizerId: "org-a",
    });
    expect(when(artistDecider, [], create({ actor: admin }))[0].data).not.toHaveProperty("ownerOrganizerId");
    expect(refusal(() => when(artistDecider, [], create({ actor: customer }))).type).toBe("FORBIDDEN");
    expect(refusal(() => when(artistDecider, created, create())).type).toBe("ALREADY_EXISTS");
  });

  it("trims and de-duplicates genres and allows at most ten", () => {
    const genres = [" rock ", "Rock", "indie", "ROCK", "alternative"];
    expect(when(artistDecider, [], create({ genres }))[0].data).toMatchObject({ genres: ["rock", "indie", "alternative"] });
    const eleven = Array.from({ length: 11 }, (_, i) => `genre ${i}`);
    expect(refusal(() => when(artistDecider, [], create({ genres: eleven }))).data).toEqual({ field: "genres" });
    expect(when(artistDecider, [], create({ genres: [...eleven.slice(0, 10), "GENRE 0"] }))).toHaveLength(1);
  });

  it("accepts http and https links only", () => {
    const links = [
      { kind: "site", url: "https://zemfira.ru" },
      { kind: "vk", url: "http://vk.com/zemfira" },
    ];
    expect(when(artistDecider, [], create({ links }))[0].data).toMatchObject({ links });
    for (const url of ["javascript:alert(1)", "ftp://zemfira.ru", "zemfira.ru"]) {
      expect(refusal(() => when(artistDecider, [], create({ links: [{ kind: "site", url }] }))).data).toEqual({
        field: "links[0].url",
      });
    }
  });

  it("takes a numeric Yandex Music id only", () => {
    expect(when(artistDecider, [], create({ yandexMusicId: "41126" }))[0].data).toMatchObject({ yandexMusicId: "41126" });
    expect(refusal(() => when(artistDecider, [], create({ yandexMusicId: "zemfira" }))).data).toEqual({ field: "yandexMusicId" });
  });

  describe("update", () => {
    it("lets the owning organizer and admins edit, nobody else", () => {
      expect(when(artistDecider, created, update({ name: "Zemfira" }))).toHaveLength(1);
      expect(when(artistDecider, created, update({ actor: admin, name: "Zemfira" }))).toHaveLength(1);
      expect(refusal(() => when(artistDecider, created, update({ actor: organizerB, name: "Mine" }))).type).toBe("FORBIDDEN");
    });

    it("keeps an admin-created artist for admins", () => {
      const byAdmin = when(artistDecider, [], create({ actor: admin }));
      expect(refusal(() => when(artistDecider, byAdmin, update({ name: "Mine" }))).status).toBe(403);
    });

    it("carries the changed fields only and appends nothing for a no-op", () => {
      expect(when(artistDecider, created, update({ name: "Zemfira", genres: ["rock"] }))).toEqual([
        { type: "ArtistUpdated", data: { id: "zemfira", name: "Zemfira" } },
      ]);
      expect(when(artistDecider, created, update({ name: "Земфира ", genres: [" rock"], yandexMusicId: "41126" }))).toEqual([]);
    });

    it("announces a new music id and forgets the old discography", () => {
      const history = [...created, ...when(artistDecider, created, synced())];
      expect(given(artistDecider, history)?.discography?.albums).toEqual(albums);
      const changed = when(artistDecider, history, update({ yandexMusicId: "999" }));
      expect(changed).toEqual([{ type: "ArtistMusicIdChanged", data: { id: "zemfira", yandexMusicId: "999" } }]);
      expect(musicIdToSync(changed[0])).toBe("999");
      const state = given(artistDecider, [...history, ...changed]);
      expect(state).toMatchObject({ yandexMusicId: "999" });
      expect(state).not.toHaveProperty("discography");
      const unlinked = when(artistDecider, [...history, ...changed], update({ yandexMusicId: null }));
      expect(unlinked).toEqual([{ type: "ArtistMusicIdChanged", data: { id: "zemfira", yandexMusicId: null } }]);
      expect(musicIdToSync(unlinked[0])).toBeNull();
    });

    it("asks for a sync when an artist is created with a music id", () => {
      expect(musicIdToSync(created[0])).toBe("41126");
      expect(musicIdToSync(when(artistDecider, [], create())[0])).toBeNull();
    });
  });

  describe("discography sync", () => {
    it("records a discography, and nothing when the same one comes again", () => {
      const events = when(artistDecider, created, synced({ coverUrl: "https://avatars.yandex.net/z.jpg" }));
      expect(events).toEqual([
        {
          type: "DiscographySynced",
          data: {
            id: "zemfira",
            yandexMusicId: "41126",
            discography: { fetchedAt: NOW, albums, popularTracks, coverUrl: "https://avatars.yandex.net/z.jpg" },
          },
        },
      ]);
      const again = synced({ fetchedAt: NOW + 60_000, coverUrl: "https://avatars.yandex.net/z.jpg" });
      expect(when(artistDecider, [...created, ...events], again)).toEqual([]);
    });

    it("drops a result fetched for a music id that is no longer current, or older than the one kept", () => {
      expect(when(artistDecider, created, synced({ yandexMusicId: "1" }))).toEqual([]);
      const history = [...created, ...when(artistDecider, created, synced())];
      expect(when(artistDecider, history, synced({ fetchedAt: NOW - 1, albums: [] }))).toEqual([]);
    });

    it("records a failure once, keeps the old discography, and clears the failure on the next success", () => {
      const history = [...created, ...when(artistDecider, created, synced())];
      const failure = when(artistDecider, history, failed());
      expect(failure).toEqual([
        {
          type: "DiscographySyncFailed",
          data: {
            id: "zemfira",
            yandexMusicId: "41126",
            failure: { at: NOW + 1000, code: "MUSIC_UNAVAILABLE", message: "503 from the music service" },
          },
        },
      ]);
      const afterFailure = [...history, ...failure];
      expect(when(artistDecider, afterFailure, failed({ at: NOW + 5000 }))).toEqual([]);
      expect(when(artistDecider, afterFailure, failed({ code: "MUSIC_BAD_RESPONSE" }))).toHaveLength(1);
      expect(given(artistDecider, afterFailure)?.discography?.albums).toEqual(albums);
      // The same content again still matters after a failure: it tells the page the sync works.
      const recovered = when(artistDecider, afterFailure, synced({ fetchedAt: NOW + 2000 }));
      expect(recovered).toHaveLength(1);
      expect(given(artistDecider, [...afterFailure, ...recovered])).not.toHaveProperty("syncFailure");
    });

    it("is recorded by the system (admin role) only", () => {
      expect(refusal(() => when(artistDecider, created, synced({ actor: organizerA }))).type).toBe("FORBIDDEN");
      expect(refusal(() => when(artistDecider, created, failed({ actor: organizerA }))).type).toBe("FORBIDDEN");
    });

    it("validates what the sync brings", () => {
      const bad = synced({ albums: [{ id: "a1", title: "x", coverUrl: "javascript:1" }] });
      expect(refusal(() => when(artistDecider, created, bad)).data).toEqual({ field: "albums[0].coverUrl" });
    });
  });

  it("gives events a snapshot of id and name", () => {
    expect(artistSnapshot(given(artistDecider, created))).toEqual({ id: "zemfira", name: "Земфира" });
  });
});
