/**
 * Concert venues the geocoder simulator knows by name or address. Coordinates are rounded
 * to about a hundred metres: close enough for a map pin in the quick start, not for routing.
 */
export interface SimulatedPlace {
  lat: number;
  lon: number;
  formatted: string;
  kind?: string;
  precision?: string;
}

export interface KnownVenue extends SimulatedPlace {
  /** Names and address spellings the simulator matches, besides `formatted`. */
  aliases: string[];
}

export const KNOWN_VENUES: readonly KnownVenue[] = [
  {
    aliases: ["ВТБ Арена", "Москва, Ленинградский проспект, 36"],
    lat: 55.7915,
    lon: 37.5596,
    formatted: "Россия, Москва, Ленинградский проспект, 36",
  },
  {
    aliases: ["Лужники", "Большая спортивная арена Лужники", "Москва, улица Лужники, 24с1"],
    lat: 55.7158,
    lon: 37.5537,
    formatted: "Россия, Москва, улица Лужники, 24с1",
  },
  {
    aliases: ["Государственный Кремлёвский дворец", "Москва, улица Воздвиженка, 1"],
    lat: 55.7516,
    lon: 37.6148,
    formatted: "Россия, Москва, улица Воздвиженка, 1",
  },
  {
    aliases: ["Зарядье", "Концертный зал Зарядье", "Москва, улица Варварка, 6с4"],
    lat: 55.751,
    lon: 37.629,
    formatted: "Россия, Москва, улица Варварка, 6с4",
  },
  {
    aliases: ["Adrenaline Stadium", "Москва, Ленинградский проспект, 80к17"],
    lat: 55.8068,
    lon: 37.5131,
    formatted: "Россия, Москва, Ленинградский проспект, 80к17",
  },
  {
    aliases: ["Газпром Арена", "Санкт-Петербург, Футбольная аллея, 1"],
    lat: 59.973,
    lon: 30.2205,
    formatted: "Россия, Санкт-Петербург, Футбольная аллея, 1",
  },
  {
    aliases: ["Ледовый дворец", "Санкт-Петербург, проспект Пятилеток, 1"],
    lat: 59.9216,
    lon: 30.4667,
    formatted: "Россия, Санкт-Петербург, проспект Пятилеток, 1",
  },
  {
    aliases: ["БКЗ Октябрьский", "Большой концертный зал Октябрьский", "Санкт-Петербург, Лиговский проспект, 6"],
    lat: 59.9315,
    lon: 30.363,
    formatted: "Россия, Санкт-Петербург, Лиговский проспект, 6",
  },
  {
    aliases: ["Ак Барс Арена", "Казань, улица Хусаина Ямашева, 115А"],
    lat: 55.821,
    lon: 49.161,
    formatted: "Россия, Республика Татарстан, Казань, улица Хусаина Ямашева, 115А",
  },
  {
    aliases: ["Екатеринбург Арена", "Екатеринбург, улица Репина, 5"],
    lat: 56.8325,
    lon: 60.5736,
    formatted: "Россия, Екатеринбург, улица Репина, 5",
  },
  {
    aliases: ["Стадион Нижний Новгород", "Нижний Новгород, улица Бетанкура, 1"],
    lat: 56.3375,
    lon: 43.9633,
    formatted: "Россия, Нижний Новгород, улица Бетанкура, 1",
  },
];
