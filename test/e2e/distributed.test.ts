import { randomUUID } from "node:crypto";
import { createKafka } from "../../lib/kafka/kafka";
import { apiClient, eventually } from "../support/api-client";
import { startCluster, tail, type Cluster } from "../support/cluster";
import { devIssuerOf } from "../support/quickstart";
import { loadInfra, mongoServerUri, type MongoServer } from "../support/infra";

interface KafkaRecord {
  key: string;
  value: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The distributed mode as docker compose runs it: gateway, catalogue and Kafka relay as three
 * Node processes over NATS, with the MongoDB wire protocol for storage and a real Kafka broker.
 * Both MongoDB-protocol test servers: FerretDB refuses every command a real MongoDB would.
 */
const SERVERS: MongoServer[] = ["mongo", "ferret"];

describe.each(SERVERS)("distributed mode: three processes over NATS, MongoDB protocol (%s) and Kafka", (server) => {
  const infra = loadInfra();
  const run = randomUUID().slice(0, 8);
  const topics = { organizers: `organizers-${run}`, events: `events-${run}` };
  let cluster: Cluster;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    cluster = await startCluster(
      {
        gateway: "api,runners",
        catalogue: "organizers,artists,venues,events,inventory,waitingRoom,orders,tickets,runners",
        // Users away from orders and the gateway: both reach it over NATS only.
        relay: "kafka-relay,users,runners",
      },
      {
        TRANSPORTER: infra.natsUrl,
        NAMESPACE: `e2e-${run}`,
        MONGO_URI: mongoServerUri(server, `e2e_${run}`),
        KAFKA_BROKERS: infra.kafkaBrokers.join(","),
        KAFKA_TOPIC_ORGANIZERS: topics.organizers,
        KAFKA_TOPIC_EVENTS: topics.events,
        PARTNER_APPLICATION_ID: "ticketland-e2e",
        RUNNER_POLL_MS: "200",
      },
    );
    api = apiClient(cluster.apiUrl);
  }, 90_000);

  afterAll(async () => cluster?.stop(), 30_000);

  test("a catalogue built through the gateway is searchable and reaches the partner topics", async () => {
    const issuer = await devIssuerOf(cluster.env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const organizer = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org-e2e" });

    // Right after start, on a loaded machine, the gateway may not see the catalogue's services
    // yet: it says 503 "retry in a moment", and a client does.
    expect(
      (
        await eventually(
          () =>
            api("POST", "/organizers", {
              token: admin,
              body: { id: "org-e2e", name: "E2E Live", legals: { name: "OOO E2E", type: "ru_ltd", inn: "7707083893" } },
              headers: { "idempotency-key": "create-org-e2e-1" },
            }),
          (r) => r.status !== 503,
        )
      ).status,
    ).toBe(201);
    expect(
      (await api("POST", "/artists", { token: organizer, body: { id: "art-e2e", name: "Kino", yandexMusicId: "1000002" } }))
        .status,
    ).toBe(201);
    expect(
      (
        await api("POST", "/venues", {
          token: organizer,
          body: {
            id: "ven-e2e",
            name: "Tinkoff Arena",
            address: "Primorsky pr., 80",
            city: "Saint Petersburg",
            timezone: "Europe/Moscow",
            capacity: 1000,
          },
        })
      ).status,
    ).toBe(201);
    const created = await api("POST", "/events", {
      token: organizer,
      body: {
        id: "evt-e2e",
        venueId: "ven-e2e",
        artistIds: ["art-e2e"],
        name: "Kino Tribute",
        category: "concert",
        startsAt: "2031-03-01T20:00:00+03:00",
        endsAt: "2031-03-01T23:00:00+03:00",
        seriesId: "kino-tour",
      },
    });
    expect(created.status).toBe(201);
    expect(
      (
        await api("POST", "/events/evt-e2e/categories", {
          token: organizer,
          body: { categoryId: "floor", name: "Floor", price: 250000, currency: "RUB", kind: "ga", quota: 800 },
        })
      ).status,
    ).toBe(201);
    const published = await api("POST", "/events/evt-e2e/publish", { token: organizer });
    expect(published.status).toBe(200);
    expect(published.body.status).toBe("on_sale");

    const search = await api<{ rows: Array<{ id: string; priceFrom: number }> }>("GET", "/events?city=saint%20petersburg&q=kino");
    expect(search.body.rows).toEqual([expect.objectContaining({ id: "evt-e2e", priceFrom: 250000 })]);

    const [organizers, events] = await Promise.all([readTopic(topics.organizers, 1), readTopic(topics.events, 1)]);
    expect(organizers[0].key).toBe("org-e2e");
    expect(organizers[0].value).toEqual({
      id: "org-e2e",
      name: "E2E Live",
      legals: { name: "OOO E2E", type: "ru_ltd", inn: "7707083893" },
    });
    const event = events[0];
    expect(event.key).toBe("evt-e2e");
    expect(event.headers).toMatchObject({
      "content-type": "application/json",
      "schema-version": "1.0",
      "application-id": "ticketland-e2e",
    });
    expect(event.value).toMatchObject({
      id: "evt-e2e",
      group_id: "kino-tour",
      name: "Kino Tribute",
      status: "active",
      category: "concert",
      start_at: Date.parse("2031-03-01T20:00:00+03:00"),
      finish_at: Date.parse("2031-03-01T23:00:00+03:00"),
      offset: 3,
      organizer: { id: "org-e2e", name: "E2E Live", legals: { name: "OOO E2E", type: "ru_ltd", inn: "7707083893" } },
      venue: { id: "ven-e2e", name: "Tinkoff Arena", address: "Primorsky pr., 80", city_name: "Saint Petersburg" },
    });
    // Drafts never reach partners: the event's first message is its publication.
    expect(events.every((e) => e.value.status !== "draft")).toBe(true);
  }, 60_000);

  test("the users service on another node: a first call registers, PATCH /me, an order takes the profile's contact", async () => {
    const issuer = await devIssuerOf(cluster.env);
    const ivan = await issuer.mint({ sub: "ivan", roles: ["customer"], name: "Ivan Petrov", email: "ivan@example.com" });
    const patched = await api<{ name: string; phone: string }>("PATCH", "/me", { token: ivan, body: { phone: "+79005556677" } });
    expect([patched.status, patched.body.name, patched.body.phone]).toEqual([200, "Ivan Petrov", "+79005556677"]);
    const placed = await api<{ customer: Record<string, string> }>("POST", "/orders", {
      token: ivan,
      body: { eventId: "evt-e2e", items: [{ categoryId: "floor", quantity: 1 }] },
    });
    expect(placed.status).toBe(201);
    expect(placed.body.customer).toEqual({
      email: "ivan@example.com",
      phone: "+79005556677",
      firstName: "Ivan",
      lastName: "Petrov",
    });
  }, 60_000);

  async function readTopic(topic: string, atLeast: number): Promise<KafkaRecord[]> {
    const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: "e2e-reader", ssl: false });
    const consumer = kafka.consumer({ groupId: `e2e-${randomUUID()}`, maxWaitTimeInMs: 200 });
    const records: KafkaRecord[] = [];
    await consumer.connect();
    try {
      const admin = kafka.admin();
      await admin.connect();
      // The relay creates its topics before the first send; subscribing earlier would fail.
      await eventually(
        () => admin.listTopics(),
        (topicsNow) => topicsNow.includes(topic),
        20_000,
      ).finally(() => admin.disconnect());
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no message on ${topic}\n${cluster.nodes.map((n) => tail(n)).join("\n")}`)),
          20_000,
        );
        void consumer.run({
          eachMessage: async ({ message }) => {
            records.push({
              key: message.key!.toString(),
              value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
            });
            if (records.length >= atLeast) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return records;
  }
});
