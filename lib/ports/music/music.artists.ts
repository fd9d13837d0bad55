/**
 * Invented artists for the music simulator, described with Yandex's own field names and
 * cover URI templates so that the simulator serves them as the real API would.
 */
export interface SimulatedAlbum {
  id: number;
  title: string;
  year?: number;
  trackCount?: number;
  genre?: string;
  /** Template without scheme, `%%` standing for the size. */
  coverUri?: string;
}

export interface SimulatedTrack {
  id: string;
  title: string;
  durationMs?: number;
}

export interface SimulatedArtist {
  id: number;
  name: string;
  genres: string[];
  coverUri?: string;
  albums: SimulatedAlbum[];
  popularTracks: SimulatedTrack[];
}

const cover = (kind: "a" | "p", id: number) => `avatars.yandex.net/get-music-content/98892/sim${id}.${kind}.${id}-1/%%`;

const album = (id: number, title: string, year: number, trackCount: number, genre: string): SimulatedAlbum => ({
  id,
  title,
  year,
  trackCount,
  genre,
  coverUri: cover("a", id),
});

const LIVE_CITIES = ["Москве", "Казани", "Екатеринбурге", "Новосибирске", "Самаре", "Перми"];

/** Twenty-four live albums, more than one page of `direct-albums`, to exercise pagination. */
const liveAlbums: SimulatedAlbum[] = Array.from({ length: 24 }, (_, i) =>
  album(3_100_000 + i, `Живьём в ${LIVE_CITIES[i % LIVE_CITIES.length]}`, 2001 + i, 12 + (i % 5), "classical"),
);

export const BUILT_IN_ARTISTS: readonly SimulatedArtist[] = [
  {
    id: 1_000_001,
    name: "Полярная Ночь",
    genres: ["rusrock", "rock"],
    coverUri: cover("p", 1_000_001),
    albums: [
      album(2_000_001, "Северное сияние", 2012, 11, "rusrock"),
      album(2_000_002, "Лёд и пламя", 2015, 12, "rusrock"),
      album(2_000_003, "Полярный круг", 2018, 10, "rusrock"),
      album(2_000_004, "Оттепель", 2021, 9, "rusrock"),
      album(2_000_005, "Белые ночи (Live)", 2023, 16, "rusrock"),
      album(2_000_006, "Магнитное поле", 2024, 1, "rusrock"),
    ],
    popularTracks: [
      { id: "50000011", title: "Северное сияние", durationMs: 245_000 },
      { id: "50000012", title: "Ледокол", durationMs: 212_500 },
      { id: "50000013", title: "Оттепель", durationMs: 198_040 },
    ],
  },
  {
    id: 1_000_002,
    name: "Mira Sol",
    genres: ["pop", "dance"],
    coverUri: cover("p", 1_000_002),
    albums: [album(2_100_001, "Солнечный ветер", 2019, 8, "pop"), album(2_100_002, "Neon Taiga", 2022, 10, "dance")],
    popularTracks: [
      { id: "51000021", title: "Neon Taiga", durationMs: 184_000 },
      { id: "51000022", title: "Солнечный ветер", durationMs: 201_300 },
    ],
  },
  {
    id: 1_000_003,
    name: "Оркестр Белых Ночей",
    genres: ["classical", "soundtrack"],
    coverUri: cover("p", 1_000_003),
    albums: liveAlbums,
    popularTracks: [{ id: "52000031", title: "Вальс на Неве", durationMs: 327_000 }],
  },
  {
    id: 1_000_004,
    name: "Тихий Двор",
    genres: [],
    albums: [],
    popularTracks: [],
  },
];
