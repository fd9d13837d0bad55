/**
 * The catalogue `npm run demo` puts into an empty quick start: what a newcomer should see at
 * once. Prices are in minor units (kopecks), like every amount of the API: 350000 = 3500.00 RUB.
 */

export interface DemoOrganizer {
  id: string;
  name: string;
  legals: { name: string; type: "ru_ltd"; inn: string; ogrn: string };
}

export interface DemoVenue {
  id: string;
  /** Who creates it (venues are shared, but someone has to enter them). */
  organizerId: string;
  name: string;
  address: string;
  city: string;
  timezone: string;
  /** A seating plan: section → rows of `seats` seats; absent for a standing-only venue. */
  sections?: Array<{ id: string; name: string; rows: number; seats: number }>;
  /** Standing-only venues: how many people it holds. */
  capacity?: number;
}

export interface DemoCategory {
  categoryId: string;
  name: string;
  /** Kopecks. */
  price: number;
  /** Seated: every seat of these sections; GA: `capacity` tickets. */
  sections?: string[];
  capacity?: number;
}

export interface DemoEvent {
  id: string;
  organizerId: string;
  venueId: string;
  name: string;
  description: string;
  category: "concert" | "standup" | "festival" | "show" | "party";
  /** Days from the first run, at `localTime` in the venue's zone (its `utcOffset`). */
  inDays: number;
  localTime: string;
  durationHours: number;
  categories: DemoCategory[];
}

export const DEMO_ORGANIZERS: DemoOrganizer[] = [
  {
    id: "vibe-concerts",
    name: "Vibe Concerts",
    legals: { name: "OOO Vibe Concerts", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195" },
  },
  {
    id: "nevsky-stage",
    name: "Nevsky Stage",
    legals: { name: "OOO Nevsky Stage", type: "ru_ltd", inn: "7830002293", ogrn: "1037843041576" },
  },
  {
    id: "ural-fest",
    name: "Ural Fest",
    legals: { name: "OOO Ural Fest", type: "ru_ltd", inn: "6661004661", ogrn: "1026605227923" },
  },
];

export const DEMO_VENUES: DemoVenue[] = [
  {
    id: "dmitrovka-club",
    organizerId: "vibe-concerts",
    name: "Dmitrovka Club",
    address: "Bolshaya Dmitrovka, 32",
    city: "Moscow",
    timezone: "Europe/Moscow",
    sections: [
      { id: "S", name: "Stalls", rows: 6, seats: 12 },
      { id: "B", name: "Balcony", rows: 3, seats: 10 },
    ],
  },
  {
    id: "nevsky-hall",
    organizerId: "nevsky-stage",
    name: "Nevsky Concert Hall",
    address: "Nevsky prospekt, 41",
    city: "Saint Petersburg",
    timezone: "Europe/Moscow",
    sections: [
      { id: "P", name: "Parterre", rows: 10, seats: 16 },
      { id: "A", name: "Amphitheatre", rows: 4, seats: 14 },
      { id: "L", name: "Boxes", rows: 2, seats: 6 },
    ],
  },
  {
    id: "ural-arena",
    organizerId: "ural-fest",
    name: "Ural Arena",
    address: "Olimpiyskaya nab., 3",
    city: "Yekaterinburg",
    timezone: "Asia/Yekaterinburg",
    capacity: 3000,
  },
];

export const DEMO_EVENTS: DemoEvent[] = [
  {
    id: "moscow-quartet",
    organizerId: "vibe-concerts",
    venueId: "dmitrovka-club",
    name: "Jazz Night: Moscow Quartet",
    description: "Standards and new pieces, two sets with an interval.",
    category: "concert",
    inDays: 14,
    localTime: "20:00",
    durationHours: 3,
    categories: [
      { categoryId: "stalls", name: "Stalls", price: 350000, sections: ["S"] },
      { categoryId: "balcony", name: "Balcony", price: 220000, sections: ["B"] },
    ],
  },
  {
    id: "open-mic",
    organizerId: "vibe-concerts",
    venueId: "dmitrovka-club",
    name: "Stand-up Open Mic",
    description: "Eight comedians, new material.",
    category: "standup",
    inDays: 9,
    localTime: "19:30",
    durationHours: 2,
    categories: [
      { categoryId: "stalls", name: "Stalls", price: 150000, sections: ["S"] },
      { categoryId: "balcony", name: "Balcony", price: 90000, sections: ["B"] },
    ],
  },
  {
    id: "four-seasons",
    organizerId: "nevsky-stage",
    venueId: "nevsky-hall",
    name: "Vivaldi: The Four Seasons",
    description: "The Nevsky Chamber Orchestra.",
    category: "concert",
    inDays: 30,
    localTime: "19:00",
    durationHours: 2,
    categories: [
      { categoryId: "boxes", name: "Boxes", price: 650000, sections: ["L"] },
      { categoryId: "parterre", name: "Parterre", price: 450000, sections: ["P"] },
      { categoryId: "amphitheatre", name: "Amphitheatre", price: 280000, sections: ["A"] },
    ],
  },
  {
    id: "ural-rock-fest",
    organizerId: "ural-fest",
    venueId: "ural-arena",
    name: "Ural Rock Fest",
    description: "Six bands, one night.",
    category: "festival",
    inDays: 45,
    localTime: "18:00",
    durationHours: 6,
    categories: [
      { categoryId: "fan-zone", name: "Fan zone", price: 590000, capacity: 500 },
      { categoryId: "dance-floor", name: "Dance floor", price: 390000, capacity: 2500 },
    ],
  },
];
