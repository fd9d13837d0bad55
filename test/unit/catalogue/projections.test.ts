import { CATALOGUE_LOG } from "../../../lib/domain/catalogue";
import { fold, handleCommand, type Decider } from "../../../lib/eventlog/decider";
import { projectInto, type ReadDoc } from "../../../lib/eventlog/projection";
import type { NewEvent } from "../../../lib/eventlog/types";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";
import { artistDecider, artistSnapshot } from "../../../services/artists/artists.decider";
import { artistStream, type ArtistCommand, type ArtistDoc, type ArtistSnapshot } from "../../../services/artists/artists.types";
import { catalogueProjections } from "../../../services/events/catalogue.projection";
import { eventDecider } from "../../../services/events/events.decider";
import { eventStream, type EventCommand, type EventDoc } from "../../../services/events/events.types";
import { organizerDecider, organizerSnapshot } from "../../../services/organizers/organizers.decider";
import { organizerStream, type OrganizerCommand, type OrganizerDoc } from "../../../services/organizers/organizers.types";
import { venueDecider, venueSnapshot } from "../../../services/venues/venues.decider";
import { venueStream, type VenueCommand, type VenueDoc } from "../../../services/venues/venues.types";
import { NOW, admin, organizerA, system } from "./fixtures";

let store: EmbeddedStore;
let projectedUpTo: number;

beforeEach(async () => {
  store = await EmbeddedStore.open({ logs: [CATALOGUE_LOG] });
  projectedUpTo = 0;
});

afterEach(async () => {
  await store.close();
});

const log = () => store.log(CATALOGUE_LOG);

/** A command without its time: every command here happens at NOW. */
type Untimed<C> = C extends unknown ? Omit<C, "at"> : never;

async function run<C, E extends NewEvent, S>(decider: Decider<C, E, S>, stream: string, command: C): Promise<void> {
  await handleCommand(log(), decider, stream, command);
}

async function load<C, E extends NewEvent, S>(decider: Decider<C, E, S>, stream: string): Promise<S> {
  return fold(decider, decider.initialState(), await log().readStream(stream));
}

const organizer = (command: Untimed<OrganizerCommand>) =>
  run(organizerDecider, organizerStream(command.id), { ...command, at: NOW } as OrganizerCommand);
const venue = (command: Untimed<VenueCommand>) =>
  run(venueDecider, venueStream(command.id), { ...command, at: NOW } as VenueCommand);
const artist = (command: Untimed<ArtistCommand>) =>
  run(artistDecider, artistStream(command.id), { ...command, at: NOW } as ArtistCommand);
const event = (command: Untimed<EventCommand>) =>
  run(eventDecider, eventStream(command.id), { ...command, at: NOW } as EventCommand);

/** Creates an event the way the service will: snapshots loaded from the other streams. */
async function createEvent(id: string, venueId: string, artistIds: string[]): Promise<void> {
  const artists = await Promise.all(
    artistIds.map(async (a) => artistSnapshot(await load(artistDecider, artistStream(a))) as ArtistSnapshot),
  );
  await event({
    type: "CreateEvent",
    actor: organizerA,
    id,
    organizerId: "org-a",
    organizer: organizerSnapshot(await load(organizerDecider, organizerStream("org-a"))),
    venueId,
    venue: venueSnapshot(await load(venueDecider, venueStream(venueId))),
    artists,
    name: `Concert ${id}`,
    category: "concert",
    startsAt: "2030-03-01T19:00:00+03:00",
    endsAt: "2030-03-01T22:00:00+03:00",
  });
}

/** Applies the commits not projected yet, as a runner would. */
async function project(): Promise<void> {
  const commits = await log().readFrom(projectedUpTo, 10_000);
  for (const projection of catalogueProjections) await projectInto(projection, store, projection.collection, commits);
  projectedUpTo = commits.at(-1)?.pos ?? projectedUpTo;
}

async function docs<D extends ReadDoc>(collection: string): Promise<D[]> {
  return store.collection<D>(collection).find({}, { sort: { _id: 1 } });
}

const get = async <D extends ReadDoc>(collection: string, id: string) => store.collection<D>(collection).get(id);

async function everything(suffix = ""): Promise<Record<string, ReadDoc[]>> {
  const entries = await Promise.all(
    catalogueProjections.map(async (p) => [p.collection, await docs(p.collection + suffix)] as const),
  );
  return Object.fromEntries(entries);
}

const hallLayout = {
  sections: [
    {
      id: "stalls",
      name: "Партер",
      rows: [
        { id: "1", seats: ["1", "2", "3", "4", "5"] },
        { id: "2", seats: ["1", "2", "3", "4", "5"] },
      ],
    },
  ],
};

/** Organizer A with a seated hall, a club, two artists, and two events on sale. */
async function catalogue(): Promise<void> {
  await organizer({ type: "CreateOrganizer", actor: admin, id: "org-a", name: "Org A" });
  await venue({
    type: "CreateVenue",
    actor: organizerA,
    id: "hall",
    name: "Зал Чайковского",
    address: "Москва, Триумфальная пл., 4/31",
    city: "Москва",
    timezone: "Europe/Moscow",
    layout: hallLayout,
  });
  await venue({
    type: "CreateVenue",
    actor: organizerA,
    id: "club",
    name: "Aurora",
    address: "Санкт-Петербург, Пироговская наб., 5/2",
    city: "Санкт-Петербург",
    timezone: "Europe/Moscow",
    capacity: 100,
  });
  await artist({ type: "CreateArtist", actor: organizerA, id: "zemfira", name: "Земфира", yandexMusicId: "41126" });
  await artist({ type: "CreateArtist", actor: organizerA, id: "bi2", name: "Би-2" });
  await createEvent("ev1", "hall", ["zemfira", "bi2"]);
  await createEvent("ev2", "club", ["zemfira"]);
  const seats = ["stalls:1:1", "stalls:1:2", "stalls:1:3", "stalls:1:4"];
  const base = { actor: organizerA, id: "ev1", currency: "RUB" as const };
  await event({ ...base, type: "AddTicketCategory", categoryId: "vip", name: "VIP", price: 900000, kind: "seated", seats });
  await event({ ...base, type: "AddTicketCategory", categoryId: "dance", name: "Танцпол", price: 350000, kind: "ga", quota: 6 });
  await event({ type: "PublishEvent", actor: organizerA, id: "ev1" });
}

describe("catalogue projections", () => {
  it("build one document per event with everything a page and a search need", async () => {
    await catalogue();
    await project();
    const ev1 = await get<EventDoc>("events", "ev1");
    expect(ev1).toMatchObject({
      _id: "ev1",
      id: "ev1",
      name: "Concert ev1",
      description: null,
      category: "concert",
      status: "on_sale",
      startsAt: Date.UTC(2030, 2, 1, 16),
      endsAt: Date.UTC(2030, 2, 1, 19),
      startsAtIso: "2030-03-01T19:00:00+03:00",
      endsAtIso: "2030-03-01T22:00:00+03:00",
      timezone: "Europe/Moscow",
      venue: {
        id: "hall",
        name: "Зал Чайковского",
        address: "Москва, Триумфальная пл., 4/31",
        city: "Москва",
        lat: null,
        lon: null,
      },
      organizer: { id: "org-a", name: "Org A" },
      artists: [
        { id: "zemfira", name: "Земфира" },
        { id: "bi2", name: "Би-2" },
      ],
      artistIds: ["zemfira", "bi2"],
      seriesId: null,
      mediaUrl: null,
      categories: [
        { id: "vip", name: "VIP", price: 900000, currency: "RUB", kind: "seated", capacity: 4 },
        { id: "dance", name: "Танцпол", price: 350000, currency: "RUB", kind: "ga", capacity: 6 },
      ],
      capacity: 10,
      priceFrom: 350000,
      currency: "RUB",
      cityKey: "москва",
      search: "concert ev1 | земфира | би-2 | зал чайковского",
      cancelReason: null,
    });
    expect(ev1?.publishedAt).toEqual(expect.any(Number));
    expect(await get<EventDoc>("events", "ev2")).toMatchObject({
      status: "draft",
      priceFrom: null,
      capacity: 0,
      cityKey: "санкт-петербург",
    });
    expect(await store.collection<EventDoc>("events").find({ artistIds: "bi2" })).toHaveLength(1);
  });

  it("build organizer, artist and venue documents", async () => {
    await catalogue();
    await artist({
      type: "RecordDiscography",
      actor: system,
      id: "zemfira",
      yandexMusicId: "41126",
      fetchedAt: NOW,
      albums: [{ id: "a1", title: "Вендетта", year: 2005 }],
      popularTracks: [],
    });
    await venue({
      type: "RecordGeocodeFailure",
      actor: system,
      id: "club",
      address: "Санкт-Петербург, Пироговская наб., 5/2",
      code: "GEOCODER_UNAVAILABLE",
      message: "timeout",
    });
    await project();
    expect(await get<OrganizerDoc>("organizers", "org-a")).toMatchObject({ id: "org-a", name: "Org A", legals: null });
    expect(await get<ArtistDoc>("artists", "zemfira")).toMatchObject({
      nameKey: "земфира",
      yandexMusicId: "41126",
      ownerOrganizerId: "org-a",
      discography: { fetchedAt: NOW, albums: [{ id: "a1", title: "Вендетта", year: 2005 }], popularTracks: [] },
      sync: { status: "synced", syncedAt: NOW, failure: null },
    });
    expect(await get<ArtistDoc>("artists", "bi2")).toMatchObject({ discography: null, sync: { status: "none" } });
    expect(await get<VenueDoc>("venues", "hall")).toMatchObject({
      capacity: 10,
      seated: true,
      sections: [{ id: "stalls", name: "Партер", rows: 2, seats: 10 }],
      location: null,
      geocoding: { status: "pending", at: null, failure: null },
    });
    expect(await get<VenueDoc>("venues", "club")).toMatchObject({
      seated: false,
      sections: [],
      geocoding: { status: "failed", at: NOW, failure: { code: "GEOCODER_UNAVAILABLE", message: "timeout" } },
    });
  });

  it("carry a venue's geocoding, rename and move into every event held there", async () => {
    await catalogue();
    await project();
    const hallAddress = "Москва, Триумфальная пл., 4/31";
    await venue({
      type: "RecordGeocode",
      actor: system,
      id: "hall",
      address: hallAddress,
      lat: 55.7699,
      lon: 37.5953,
      formatted: "Россия, Москва",
    });
    await venue({ type: "UpdateVenue", actor: organizerA, id: "hall", name: "Концертный зал им. Чайковского" });
    await project();
    expect((await get<EventDoc>("events", "ev1"))?.venue).toEqual({
      id: "hall",
      name: "Концертный зал им. Чайковского",
      address: hallAddress,
      city: "Москва",
      lat: 55.7699,
      lon: 37.5953,
    });
    expect((await get<EventDoc>("events", "ev1"))?.search).toContain("концертный зал им. чайковского");
    expect((await get<EventDoc>("events", "ev2"))?.venue).toMatchObject({ name: "Aurora", lat: null });
    expect(await get<VenueDoc>("venues", "hall")).toMatchObject({
      location: { lat: 55.7699, lon: 37.5953 },
      geocoding: { status: "located" },
    });

    await venue({ type: "UpdateVenue", actor: organizerA, id: "hall", address: "Москва, Тверская, 1", city: "Moscow" });
    await project();
    expect((await get<EventDoc>("events", "ev1"))?.venue).toMatchObject({
      address: "Москва, Тверская, 1",
      city: "Moscow",
      lat: null,
      lon: null,
    });
    expect((await get<EventDoc>("events", "ev1"))?.cityKey).toBe("moscow");
    expect(await get<VenueDoc>("venues", "hall")).toMatchObject({ location: null, geocoding: { status: "pending" } });
  });

  it("carry an artist's and an organizer's new name into their events", async () => {
    await catalogue();
    await project();
    await artist({ type: "UpdateArtist", actor: organizerA, id: "zemfira", name: "Zemfira" });
    await organizer({ type: "UpdateOrganizer", actor: organizerA, id: "org-a", name: "Org A Live" });
    await project();
    for (const id of ["ev1", "ev2"]) {
      const doc = await get<EventDoc>("events", id);
      expect(doc?.artists[0]).toEqual({ id: "zemfira", name: "Zemfira" });
      expect(doc?.search).toContain("zemfira");
      expect(doc?.search).not.toContain("земфира");
      expect(doc?.organizer).toEqual({ id: "org-a", name: "Org A Live" });
    }
    expect((await get<EventDoc>("events", "ev1"))?.artists[1]).toEqual({ id: "bi2", name: "Би-2" });
    expect(await get<ArtistDoc>("artists", "zemfira")).toMatchObject({ name: "Zemfira", nameKey: "zemfira" });
  });

  it("follow category changes, pauses and cancellations", async () => {
    await catalogue();
    const base = { actor: organizerA, id: "ev1" };
    await event({ ...base, type: "UpdateTicketCategory", categoryId: "dance", price: 300000, quota: 5 });
    await event({ ...base, type: "RemoveTicketCategory", categoryId: "vip" });
    await event({ ...base, type: "PauseEvent" });
    await project();
    expect(await get<EventDoc>("events", "ev1")).toMatchObject({
      status: "paused",
      categories: [{ id: "dance", name: "Танцпол", price: 300000, currency: "RUB", kind: "ga", capacity: 5 }],
      capacity: 5,
      priceFrom: 300000,
    });
    await event({ ...base, type: "CancelEvent", reason: "Артист заболел" });
    await project();
    expect(await get<EventDoc>("events", "ev1")).toMatchObject({ status: "cancelled", cancelReason: "Артист заболел" });
  });

  it("change nothing when the same commits are applied again, and a rebuild gives the same documents", async () => {
    await catalogue();
    await project();
    await artist({ type: "UpdateArtist", actor: organizerA, id: "bi2", name: "Би 2" });
    await venue({
      type: "RecordGeocode",
      actor: system,
      id: "hall",
      address: "Москва, Триумфальная пл., 4/31",
      lat: 55.77,
      lon: 37.59,
      formatted: "Москва",
    });
    await event({
      type: "UpdateEvent",
      actor: organizerA,
      id: "ev2",
      name: "Земфира в Авроре",
      mediaUrl: "https://img.example/z.jpg",
    });
    await project();
    const before = await everything();

    const all = await log().readFrom(0, 10_000);
    for (const projection of catalogueProjections) await projectInto(projection, store, projection.collection, all);
    expect(await everything()).toEqual(before);

    for (const projection of catalogueProjections) await projectInto(projection, store, `${projection.collection}_rebuilt`, all);
    expect(await everything("_rebuilt")).toEqual(before);
  });

  it("leave a document missing when it is gone (it was deleted later in the log)", async () => {
    await catalogue();
    await project();
    await store.collection<EventDoc>("events").deleteOne({ _id: "ev2" });
    await event({ type: "UpdateEvent", actor: organizerA, id: "ev2", name: "Renamed" });
    await artist({ type: "UpdateArtist", actor: organizerA, id: "zemfira", name: "Zemfira" });
    await project();
    expect(await get<EventDoc>("events", "ev2")).toBeNull();
    expect((await get<EventDoc>("events", "ev1"))?.artists[0].name).toBe("Zemfira");
  });
});
