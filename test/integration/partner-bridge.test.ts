import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel, type IHeaders } from "kafkajs";
import { Root } from "protobufjs";
import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually } from "../support/api-client";
import { loadInfra, REPO_ROOT } from "../support/infra";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import type { PartnerConfig } from "../../lib/config/partners";
import { PartnerBridge } from "../../services/kafka-relay/partner-bridge";
import { bridgeCommand } from "../../lib/repl/bridge.command";

interface Received {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
  partition: number;
  offset: number;
}

interface ApiTicket {
  id: string;
  barcode: string;
  series: string;
  number: string;
  categoryName: string;
  row?: string;
  seat?: string;
  price: number;
  currency: string;
}

const KINDS = ["organizers", "events", "orders", "refunds", "tickets", "music"] as const;
type Kind = (typeof KINDS)[number];

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}

/**
 * A plain consumer, as a partner would write it: everything on the topic until `count` distinct
 * messages (key and event id) and at least `total` messages arrived.
 */
async function readTopic(kafka: Kafka, topic: string, count: number, total = 0): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: `partner-check-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const received: Received[] = [];
  const distinct = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${topic}: ${distinct.size} of ${count} distinct messages (${received.length} of ${total}) arrived`)),
        30_000,
      );
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          const headers = headersOf(message.headers);
          received.push({
            key: message.key!.toString(),
            value: message.value!,
            headers,
            timestamp: Number(message.timestamp),
            partition,
            offset: Number(message.offset),
          });
          distinct.add(`${message.key}|${headers["event-id"]}`);
          if (distinct.size >= count && received.length >= total) {
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

/** The `.proto` files, read by protobufjs for this test alone: the decoder is not the product's encoder. */
const vibe = (() => {
  const root = new Root();
  root.resolvePath = (_origin, target) => join(REPO_ROOT, "proto", target);
  return root.loadSync(
    ["ticket", "event", "organizer", "order", "refund"].map((f) => `vibe/v1/${f}.proto`),
    { keepCase: true },
  );
})();
function decode(type: string, value: Buffer): Record<string, unknown> {
  return vibe.lookupType(`vibe.v1.${type}`).toObject(vibe.lookupType(`vibe.v1.${type}`).decode(value), {
    longs: Number,
    enums: String,
  });
}

describe("partner bridge: every topic of the contract, JSON and protobuf, on the real broker", () => {
  const infra = loadInfra(["kafka"]);
  const run = randomUUID().slice(0, 8);
  const topicOf = (partner: string, kind: Kind) => `${partner}.${kind}.${run}`;
  const topicsFor = (partner: string, kinds: readonly Kind[]) => Object.fromEntries(kinds.map((k) => [k, topicOf(partner, k)]));
  const sasl = {
    brokers: infra.kafkaSasl.brokers,
    security: "SASL_PLAINTEXT",
    sasl: { mechanism: "scram-sha-512", username: infra.kafkaSasl.username, passwordEnv: "BRIDGE_TEST_PASSWORD" },
  };
  const partners = [
    { id: "json", topics: topicsFor("json", KINDS) },
    { id: "proto", format: "protobuf", connection: sasl, topics: topicsFor("proto", KINDS.slice(0, 5)) },
    {
      id: "locked",
      connection: { ...sasl, sasl: { ...sasl.sasl, passwordEnv: "BRIDGE_TEST_WRONG_PASSWORD" } },
      topics: { events: topicOf("locked", "events") },
    },
  ];
  const env = quickStartEnv("bridge", {
    KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    PARTNER_APPLICATION_ID: "ticketland-test",
    BRIDGE_TEST_PASSWORD: infra.kafkaSasl.password,
    BRIDGE_TEST_WRONG_PASSWORD: "not-the-password",
    RUNNER_LEASE_MS: "2000",
  });
  const partnersFile = (list: unknown[]) => {
    const file = join(env.DATA_DIR, `partners-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify({ partners: list }));
    return file;
  };
  const kafka = new Kafka({ clientId: "partner-check", brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  let app: App;
  let issuer: DevIssuer;
  let api: ReturnType<typeof apiClient>;
  let olga: string;
  let ann: string;
  let root: string;
  const customer = { email: "ann@example.com", phone: "+79001234567", firstName: "Ann", lastName: "Lee" };
  const orders: Array<{ id: string; number: string; tickets: ApiTicket[] }> = [];
  let refunded: ApiTicket;
  let used: ApiTicket;

  /** Until the partners' relays have published everything written so far. */
  async function caughtUp(ids: string[]) {
    type Status = { partners: Array<{ id: string; relays: Array<{ pos: number; head: number; lag: number }> }> };
    await eventually(
      () => app.broker.call<Status>("kafka-relay.status"),
      (s) => ids.every((id) => s.partners.find((p) => p.id === id)?.relays.every((r) => r.pos > 0 && r.lag === 0)),
      60_000,
    );
  }

  async function buyAndPay(body: Record<string, unknown>) {
    const placed = await api<{ id: string; number: string; payment: { id: string } }>("POST", "/orders", {
      token: ann,
      body: { eventId: "gig", customer, ...body },
    });
    expect(placed.status).toBe(201);
    app.runtime.paymentSimulator!.pay(placed.body.payment.id);
    await eventually(
      () => api<{ status: string }>("GET", `/orders/${placed.body.id}`, { token: ann }),
      (r) => r.body.status === "paid",
    );
    const tickets = (await api<{ rows: ApiTicket[] }>("GET", `/orders/${placed.body.id}/tickets`, { token: ann })).body.rows;
    orders.push({ id: placed.body.id, number: placed.body.number, tickets });
  }

  beforeAll(async () => {
    app = await startApp({ ...env, KAFKA_PARTNERS_FILE: partnersFile(partners) });
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    root = admin;
    olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    const checker = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "org" });
    const legals = { name: "OOO Org", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195", address: "Moscow" };
    expect((await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org", legals } })).status).toBe(201);
    await api("POST", "/venues", {
      token: olga,
      body: {
        id: "club",
        name: "Club",
        address: "Arbat 1",
        city: "Moscow",
        timezone: "Europe/Moscow",
        layout: {
          sections: [
            {
              id: "B",
              name: "Balcony",
              rows: [
                { id: "1", seats: ["1", "2"] },
                { id: "2", seats: ["1", "2", "3"] },
              ],
            },
          ],
        },
      },
    });
    await api("POST", "/artists", { token: olga, body: { id: "zemfira", name: "Zemfira", yandexMusicId: "1000001" } });
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "gig",
        venueId: "club",
        artistIds: ["zemfira"],
        name: "Gig",
        category: "standup",
        startsAt: "2031-06-01T19:00:00+03:00",
        endsAt: "2031-06-01T22:00:00+03:00",
      },
    });
    await api("POST", "/events/gig/categories", {
      token: olga,
      body: { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota: 3 },
    });
    await api("POST", "/events/gig/categories", {
      token: olga,
      body: { categoryId: "balcony", name: "Balcony", price: 250000, currency: "RUB", kind: "seated", seats: ["B:1:1", "B:1:2"] },
    });
    expect((await api("POST", "/events/gig/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability: Record<string, { available: number }> }>("GET", "/events/gig"),
      (r) => r.body.availability?.balcony?.available === 2,
    );
    await buyAndPay({ items: [{ categoryId: "floor", quantity: 2 }] });
    await buyAndPay({ seats: [{ categoryId: "balcony", seatId: "B:1:2" }] });
    used = orders[0].tickets[0];
    expect((await api("POST", "/checkin", { token: checker, body: { barcode: used.barcode } })).status).toBe(200);
    refunded = orders[1].tickets[0];
    expect(
      (await api("POST", `/orders/${orders[1].id}/refunds`, { token: olga, body: { ticketIds: [refunded.id] } })).status,
    ).toBe(202);
    await caughtUp(["json", "proto"]);
  }, 120_000);
  afterAll(async () => app?.stop());

  const orderTicket = (t: ApiTicket) => ({
    id: t.id,
    event_id: "gig",
    barcode: t.barcode,
    number: t.number,
    series: t.series,
    ...(t.row ? { row: t.row } : {}),
    ...(t.seat ? { seat: t.seat } : {}),
    category: t.categoryName,
    price_nominal: t.price,
    currency: "RUB",
  });

  test("JSON: every topic carries the contract's key, headers and fields", async () => {
    const json = Object.fromEntries(
      await Promise.all(
        (
          [
            ["organizers", 1],
            ["events", 1],
            ["music", 1],
            ["orders", 2],
            ["refunds", 1],
            ["tickets", 5],
          ] as const
        ).map(async ([kind, count]) => [kind, await readTopic(kafka, topicOf("json", kind), count)] as const),
      ),
    ) as Record<Kind, Received[]>;
    for (const message of Object.values(json).flat()) {
      expect(message.headers).toEqual({
        "content-type": "application/json",
        "schema-version": "1.0",
        "application-id": "ticketland-test",
        "event-id": expect.stringMatching(/.+/),
        "stream-version": expect.stringMatching(/^\d+$/),
      });
    }
    const body = (m: Received) => JSON.parse(m.value.toString()) as Record<string, unknown>;
    const last = (list: Received[], key: string) => body(list.filter((m) => m.key === key).at(-1)!);

    expect(last(json.organizers, "org")).toEqual({
      id: "org",
      name: "Org",
      legals: { name: "OOO Org", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195", address: "Moscow" },
    });
    expect(last(json.events, "gig")).toEqual({
      id: "gig",
      name: "Gig",
      status: "active",
      category: "standup",
      start_at: Date.parse("2031-06-01T19:00:00+03:00"),
      finish_at: Date.parse("2031-06-01T22:00:00+03:00"),
      offset: 3,
      organizer: expect.objectContaining({ id: "org", name: "Org" }),
      venue: expect.objectContaining({ id: "club", name: "Club", address: "Arbat 1", city_name: "Moscow" }),
    });
    expect(last(json.music, "gig")).toMatchObject({
      id: "gig",
      status: "active",
      artists: [{ id: "zemfira", name: "Zemfira", yandex_music_id: "1000001" }],
    });
    const expectedCustomer = { email: "ann@example.com", phone: "+79001234567", first_name: "Ann", last_name: "Lee" };
    for (const order of orders) {
      expect(last(json.orders, order.id)).toEqual({
        id: order.id,
        number: order.number,
        customer: expectedCustomer,
        tickets: order.tickets.map(orderTicket),
      });
    }
    expect(json.refunds.map(body)).toEqual([{ customer: expectedCustomer, ticket_ids: [refunded.id] }]);

    // Every ticket went active first; then one was used and one refunded, in that order per key.
    const statuses = new Map<string, string[]>();
    for (const m of [...json.tickets].sort((a, b) => a.partition - b.partition || a.offset - b.offset))
      statuses.set(m.key, [...(statuses.get(m.key) ?? []), body(m).status as string]);
    const all = orders.flatMap((o) => o.tickets);
    expect(Object.fromEntries(statuses)).toEqual(
      Object.fromEntries(
        all.map((t) => [
          t.id,
          t.id === used.id ? ["active", "used"] : t.id === refunded.id ? ["active", "refunded"] : ["active"],
        ]),
      ),
    );
    expect(last(json.tickets, used.id)).toEqual({
      id: used.id,
      status: "used",
      barcode: used.barcode,
      customer: { email: "ann@example.com", phone: "+79001234567", name: "Ann Lee" },
      event_id: "gig",
      organizer_id: "org",
      order_id: orders[0].id,
      number: used.number,
      series: used.series,
      category: "Floor",
      price_nominal: 150000,
      currency: "RUB",
    });

    // The event (and its organizer) reached the topic before the first order of it.
    const firstAt = (list: Received[]) => Math.min(...list.map((m) => m.timestamp));
    expect(firstAt(json.organizers)).toBeLessThanOrEqual(firstAt(json.events));
    expect(firstAt(json.events)).toBeLessThanOrEqual(firstAt(json.orders));
    expect(firstAt(json.events)).toBeLessThanOrEqual(firstAt(json.tickets));
  });

  test("protobuf over SASL SCRAM-SHA-512: decoded from the .proto files, every field as the contract numbers it", async () => {
    const sasled = new Kafka({
      clientId: "partner-check-sasl",
      brokers: infra.kafkaSasl.brokers,
      sasl: { mechanism: "scram-sha-512", username: infra.kafkaSasl.username, password: infra.kafkaSasl.password },
      logLevel: logLevel.NOTHING,
    });
    const read = (kind: Kind, count: number) => readTopic(sasled, topicOf("proto", kind), count);
    const [organizers, events, ordersTopic, refunds, tickets] = await Promise.all([
      read("organizers", 1),
      read("events", 1),
      read("orders", 2),
      read("refunds", 1),
      read("tickets", 5),
    ]);
    for (const m of [...organizers, ...events, ...ordersTopic, ...refunds, ...tickets])
      expect(m.headers["content-type"]).toBe("application/x-protobuf");

    expect(decode("Organizer", organizers.at(-1)!.value)).toEqual({
      id: "org",
      name: "Org",
      legals: { name: "OOO Org", type: "RU_LTD", inn: "7707083893", ogrn: "1027700132195", address: "Moscow" },
    });
    expect(decode("Event", events.at(-1)!.value)).toMatchObject({
      id: "gig",
      name: "Gig",
      category: "OTHER", // standup is missing from the protobuf enum
      start_at: Date.parse("2031-06-01T19:00:00+03:00"),
      finish_at: Date.parse("2031-06-01T22:00:00+03:00"),
      organizer_id: "org",
      venue: expect.objectContaining({ name: "Club", address: "Arbat 1", city_name: "Moscow" }),
    });
    for (const order of orders) {
      const message = ordersTopic.filter((m) => m.key === order.id).at(-1)!;
      expect(decode("Order", message.value)).toEqual({
        id: order.id,
        event_id: "gig",
        organizer_id: "org",
        customer: { email: "ann@example.com", phone: "+79001234567", name: "Ann Lee" },
        tickets: order.tickets.map((t) => {
          const { event_id: _eventId, ...rest } = orderTicket(t);
          return rest;
        }),
      });
    }
    expect(decode("Refund", refunds[0].value)).toEqual({ ticket_ids: [refunded.id] });
    const usedMessages = tickets.filter((m) => m.key === used.id).map((m) => decode("Ticket", m.value));
    expect(usedMessages.map((t) => t.status)).toEqual(["ACTIVE", "USED"]);
    expect(usedMessages[1]).toEqual({
      id: used.id,
      status: "USED",
      barcode: used.barcode,
      customer: { email: "ann@example.com", phone: "+79001234567", name: "Ann Lee" },
      event_id: "gig",
      organizer_id: "org",
      number: used.number,
      series: used.series,
      category: "Floor",
      order_id: orders[0].id,
      price_nominal: 150000,
      currency: "RUB",
    });
  });

  test("wrong partner credentials: a clear error in the bridge status and /ready, nothing else stops", async () => {
    const ready = await eventually(
      () => api<{ status: string; problems: string[]; bridge: string[] }>("GET", "/ready", { token: root }),
      (r) => r.body.bridge?.some((p) => p.includes("kafka.locked.catalogue")),
    );
    // Clients are still served: the node stays in the load balancer, degraded.
    expect([ready.status, ready.body.status, ready.body.problems]).toEqual([200, "degraded", []]);
    expect(ready.body.bridge.find((p) => p.includes("kafka.locked.catalogue"))).toMatch(/SASL|authentication/i);
    const status = (await app.broker.call("kafka-relay.status")) as {
      partners: Array<{ id: string; relays: Array<{ pos: number }> }>;
    };
    expect(status.partners.map((p) => p.id).sort()).toEqual(["json", "locked", "proto"]);
    expect(status.partners.find((p) => p.id === "json")!.relays.every((r) => r.pos > 0)).toBe(true);
  });

  test("orders wait for their event: a sales relay ahead of the catalogue publishes nothing until the event is out", async () => {
    const partner: PartnerConfig = {
      id: "ordered",
      applicationId: "ticketland-test",
      schemaVersion: "1.0",
      connection: { brokers: infra.kafkaBrokers, clientId: "ordered", ssl: false },
      topics: {
        events: { name: topicOf("ordered", "events"), format: "json" },
        orders: { name: topicOf("ordered", "orders"), format: "json" },
      },
    };
    const store = app.runtime.store;
    const bridge = new PartnerBridge({
      partner,
      store,
      logs: { catalogue: store.log("catalogue"), sales: store.log("sales") },
      owner: "test",
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      tuning: { pollMs: 50 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await bridge.relays.get("sales")!.start();
      const waiting = await eventually(
        () => bridge.relays.get("sales")!.status(),
        (s) => /waiting for gig/.test(s.lastError ?? ""),
      );
      expect(waiting.pos).toBe(0);
      const topics = await admin.listTopics();
      if (topics.includes(partner.topics.orders!.name)) {
        const offsets = await admin.fetchTopicOffsets(partner.topics.orders!.name);
        expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(0);
      }
      await bridge.relays.get("catalogue")!.start();
      await eventually(
        () => bridge.status(),
        (list) => list.every((r) => r.pos > 0 && r.lag === 0),
      );
      const [events, ordersTopic] = await Promise.all([
        readTopic(kafka, partner.topics.events!.name, 1),
        readTopic(kafka, partner.topics.orders!.name, 2),
      ]);
      expect(Math.max(...events.map((m) => m.timestamp))).toBeLessThanOrEqual(Math.min(...ordersTopic.map((m) => m.timestamp)));
    } finally {
      await admin.disconnect();
      await bridge.stop();
    }
  });

  test("REPL: status per partner, a replay of one topic and a resync of one order repeat messages partners can drop", async () => {
    const status = await bridgeCommand(app.broker, {});
    expect(status).toMatch(/json\s+kafka\.json\.sales\s+\S*orders/);
    expect(status).toMatch(/locked\s+kafka\.locked\.catalogue.*(SASL|authentication)/i);

    const replay = JSON.parse(
      await bridgeCommand(app.broker, { action: "replay", partner: "json", target: "orders", from: "1" }),
    );
    expect(replay).toMatchObject({ partner: "json", topic: "orders", from: 1, to: expect.any(Number) });
    const resync = JSON.parse(
      await bridgeCommand(app.broker, { action: "resync", partner: "json", target: `order-${orders[0].id}` }),
    );
    expect(resync.messages).toEqual(
      expect.arrayContaining([`${topicOf("json", "orders")}/${orders[0].id}`, `${topicOf("json", "tickets")}/${used.id}`]),
    );
    // 2 orders, each again from the replay (same event id: a partner drops them), and the first
    // as it is now from the resync (the latest version of its stream: the check-in).
    const received = await readTopic(kafka, topicOf("json", "orders"), 3, 5);
    expect(received).toHaveLength(5);
    const byId = (m: Received) => `${m.key}|${m.headers["event-id"]}`;
    const counts = new Map<string, number>();
    for (const m of received) counts.set(byId(m), (counts.get(byId(m)) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([1, 2, 2]);
    const versions = received.filter((m) => m.key === orders[0].id).map((m) => Number(m.headers["stream-version"]));
    expect(Math.max(...versions)).toBeGreaterThan(Math.min(...versions));
    // Nothing else was replayed: the refunds topic still has its one message.
    expect(await readTopic(kafka, topicOf("json", "refunds"), 1)).toHaveLength(1);
    expect(
      await bridgeCommand(app.broker, { action: "replay", partner: "nobody", target: "orders", from: "1" }).catch(
        (e) => e.message,
      ),
    ).toMatch(/no partner "nobody"/);
  });

  test("a partner added later gets the old event and organizer before their orders", async () => {
    await app.stop();
    const late = { id: "late", topics: topicsFor("late", ["organizers", "events", "orders"]) };
    app = await startApp({ ...env, KAFKA_PARTNERS_FILE: partnersFile([partners[0], late]) });
    await caughtUp(["late"]);
    const [organizers, events, ordersTopic] = await Promise.all([
      readTopic(kafka, topicOf("late", "organizers"), 1),
      readTopic(kafka, topicOf("late", "events"), 1),
      readTopic(kafka, topicOf("late", "orders"), 2),
    ]);
    const firstAt = (list: Received[]) => Math.min(...list.map((m) => m.timestamp));
    expect(firstAt(organizers)).toBeLessThanOrEqual(firstAt(events));
    expect(firstAt(events)).toBeLessThanOrEqual(firstAt(ordersTopic));
    expect(new Set(ordersTopic.map((m) => m.key))).toEqual(new Set(orders.map((o) => o.id)));
  });
});
