/**
 * A venue's coordinates reach partners: an event created before its venue was geocoded goes out
 * again, with `lat`/`lon`, when the geocoding lands, to every partner, after its earlier
 * messages (same key), named by the geocoding's event id so a repeat is dropped. The real relay
 * on the real broker, the catalogue written by the deciders as the services do.
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import type { Actor } from "../../lib/domain/actor";
import type { PartnerConfig } from "../../lib/config/partners";
import { handleCommand } from "../../lib/eventlog/decider";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { eventDecider } from "../../services/events/events.decider";
import { eventStream, type EventCommand } from "../../services/events/events.types";
import { PartnerBridge } from "../../services/kafka-relay/partner-bridge";
import { organizerDecider } from "../../services/organizers/organizers.decider";
import { organizerStream } from "../../services/organizers/organizers.types";
import { venueDecider, venueSnapshot } from "../../services/venues/venues.decider";
import { venueStream, type VenueCommand } from "../../services/venues/venues.types";
import { eventually } from "../support/api-client";
import { loadInfra } from "../support/infra";

const admin: Actor = { sub: "root", roles: ["admin"] };
const NOW = Date.parse("2031-01-10T12:00:00Z");

interface Received {
  key: string;
  body: { id: string; status: string; venue?: { id: string; lat?: number; lon?: number } };
  headers: Record<string, string>;
}

describe("a venue geocoded after its events: the events go out again with coordinates", () => {
  const infra = loadInfra(["kafka"]);
  const run = randomUUID().slice(0, 8);
  const kafka = new Kafka({ clientId: "partner-sim", brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  const partner = (id: string): PartnerConfig => ({
    id,
    applicationId: "ticketland-test",
    schemaVersion: "1.0",
    connection: { brokers: infra.kafkaBrokers, clientId: id, ssl: false },
    topics: { events: { name: `geo.${id}.events.${run}`, format: "json" } },
  });

  /** Everything on a topic once `count` messages are there. */
  async function readTopic(topic: string, count: number): Promise<Received[]> {
    const consumer = kafka.consumer({ groupId: `geo-check-${randomUUID()}`, maxWaitTimeInMs: 200 });
    const received: Received[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${topic}: ${received.length} of ${count} messages arrived`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push({
              key: message.key!.toString(),
              body: JSON.parse(message.value!.toString()) as Received["body"],
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
            });
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return received;
  }

  test("every event at the venue, per partner, in order per key; other venues' events untouched", async () => {
    const store = await EmbeddedStore.open({ logs: ["catalogue", "sales"] });
    const log = store.log("catalogue");
    const venue = (command: VenueCommand) => handleCommand(log, venueDecider, venueStream(command.id), command);
    const event = (command: EventCommand) => handleCommand(log, eventDecider, eventStream(command.id), command);
    await handleCommand(log, organizerDecider, organizerStream("org"), {
      type: "CreateOrganizer",
      id: "org",
      name: "Org",
      actor: admin,
      at: NOW,
    });
    for (const id of ["club", "hall"])
      await venue({
        type: "CreateVenue",
        id,
        name: id,
        address: `${id} street 1`,
        city: "Moscow",
        timezone: "Europe/Moscow",
        capacity: 100,
        actor: admin,
        at: NOW,
      });
    const snapshot = async (id: string) =>
      venueSnapshot(
        (await handleCommand(log, venueDecider, venueStream(id), { type: "UpdateVenue", id, actor: admin, at: NOW })).state,
      )!;
    for (const [id, venueId] of [
      ["gig", "club"],
      ["show", "club"],
      ["play", "hall"],
    ] as const) {
      await event({
        type: "CreateEvent",
        id,
        organizerId: "org",
        organizer: { id: "org", name: "Org" },
        venueId,
        venue: await snapshot(venueId),
        artists: [],
        name: id,
        category: "concert",
        startsAt: "2031-06-01T19:00:00+03:00",
        endsAt: "2031-06-01T22:00:00+03:00",
        actor: admin,
        at: NOW,
      });
      await event({
        type: "AddTicketCategory",
        id,
        categoryId: "ga",
        name: "GA",
        price: 1000,
        currency: "RUB",
        kind: "ga",
        quota: 10,
        actor: admin,
        at: NOW,
      } as EventCommand);
      await event({ type: "PublishEvent", id, actor: admin, at: NOW });
    }

    const bridges = ["geo-a", "geo-b"].map(
      (id) =>
        new PartnerBridge({
          partner: partner(id),
          store,
          logs: { catalogue: log, sales: store.log("sales") },
          owner: "test",
          logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
          tuning: { pollMs: 50 },
        }),
    );
    try {
      for (const bridge of bridges) await bridge.start();
      const head = await log.head();
      const caughtUp = () =>
        eventually(
          async () => Promise.all(bridges.map((b) => b.status())),
          (all) => all.flat().every((r) => r.pos >= head),
        );
      await caughtUp();
      // Published without coordinates: the venue is not geocoded yet.
      const before = await readTopic(partner("geo-a").topics.events!.name, 3);
      // Keys spread over partitions: each key's own order is what Kafka keeps.
      expect(before.map((m) => [m.key, m.body.venue?.lat]).sort()).toEqual([
        ["gig", undefined],
        ["play", undefined],
        ["show", undefined],
      ]);

      const geocoded = await venue({
        type: "RecordGeocode",
        id: "club",
        address: "club street 1",
        lat: 55.75,
        lon: 37.62,
        formatted: "Moscow, Club street 1",
        actor: admin,
        at: NOW + 1,
      });
      const geocodeEventId = geocoded.commit!.events[0].id;
      for (const bridge of bridges) bridge.wake("catalogue");
      const headAfter = await log.head();
      await eventually(
        async () => Promise.all(bridges.map((b) => b.status())),
        (all) => all.flat().every((r) => r.pos >= headAfter),
      );
      for (const id of ["geo-a", "geo-b"]) {
        const all = await readTopic(partner(id).topics.events!.name, 5);
        expect(all).toHaveLength(5);
        const of = (key: string) => all.filter((m) => m.key === key);
        expect(of("play")).toHaveLength(1);
        for (const key of ["gig", "show"]) {
          const [first, again] = of(key);
          expect(first.body.venue).not.toHaveProperty("lat");
          expect(again.body.venue).toEqual(expect.objectContaining({ id: "club", lat: 55.75, lon: 37.62 }));
          // Named by the geocoding: a repeat of it has the same event-id; the event's own version is unchanged.
          expect(again.headers["event-id"]).toBe(geocodeEventId);
          expect(again.headers["stream-version"]).toBe(first.headers["stream-version"]);
        }
      }

      // A later change of the event carries the coordinates too (the venue's stream has them).
      await event({ type: "PauseEvent", id: "gig", actor: admin, at: NOW + 2 });
      for (const bridge of bridges) bridge.wake("catalogue");
      const paused = (await readTopic(partner("geo-a").topics.events!.name, 6)).filter((m) => m.key === "gig");
      expect(paused).toHaveLength(3);
      expect(paused[2].body).toMatchObject({ status: "paused", venue: { lat: 55.75, lon: 37.62 } });
    } finally {
      for (const bridge of bridges) await bridge.stop();
      await store.close();
    }
  }, 120_000);
});
