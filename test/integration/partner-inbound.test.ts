import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners, type IHeaders, type Producer } from "kafkajs";
import { Writer } from "protobufjs";
import { startApp, type App } from "../../lib/app/app";
import { ensureTopics } from "../../lib/kafka/kafka";
import {
  encodeProviderEvent,
  encodeProviderOrder,
  encodeProviderPartner,
  encodeProviderRefundRequest,
} from "../../lib/kafka/provider-proto";
import { bridgeCommand } from "../../lib/repl/bridge.command";
import { SERVICE_FACTORIES } from "../../services";
import type { InboundStatus } from "../../services/kafka-relay/partner-inbound";
import { apiClient, eventually } from "../support/api-client";
import { loadInfra } from "../support/infra";
import { freePort } from "../support/free-port";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface Received {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  offset: string;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Everything on a topic until `count` messages arrived, read as any partner would. */
async function readTopic(kafka: Kafka, topic: string, count: number): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: `inbound-check-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic}: ${received.length} of ${count} messages arrived`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({
            key: message.key?.toString() ?? null,
            value: message.value!,
            headers: headersOf(message.headers),
            offset: message.offset,
          });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    // Anything beyond `count` would arrive within a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Fields the provider's real messages carry and our schema does not declare. */
function withUnknownFields(bytes: Buffer): Buffer {
  const extra = Writer.create()
    .uint32((77 << 3) | 2)
    .string("promo: spring")
    .uint32((160 << 3) | 0)
    .uint64(7)
    .finish();
  return Buffer.concat([bytes, Buffer.from(extra)]);
}

describe("inbound partner streams: the provider's protobuf topics on the real broker", () => {
  const infra = loadInfra(["kafka"]);
  const run = randomUUID().slice(0, 8);
  const topics = {
    partners: `tc.partners.${run}`,
    events: `tc.events.${run}`,
    orders: `tc.orders.${run}`,
    refundRequests: `tc.refund-requests.${run}`,
  };
  const deadLetterTopic = `tc.dead-letters.${run}`;
  const env = quickStartEnv("inbound", { KAFKA_BROKERS: infra.kafkaBrokers.join(","), INBOUND_TEST_WRONG_PASSWORD: "nope" });
  const partnersFile = join(env.DATA_DIR, "partners.json");
  writeFileSync(
    partnersFile,
    JSON.stringify({
      partners: [
        {
          id: "tc",
          inbound: {
            groupId: `inbound-test-${run}`,
            topics,
            deadLetterTopic,
            timezone: "Europe/Moscow",
            referenceWaitMs: 1500,
          },
        },
        {
          // A provider whose broker refuses us: /api/ready must say so.
          id: "locked",
          connection: {
            brokers: infra.kafkaSasl.brokers,
            security: "SASL_PLAINTEXT",
            sasl: { mechanism: "scram-sha-512", username: infra.kafkaSasl.username, passwordEnv: "INBOUND_TEST_WRONG_PASSWORD" },
          },
          inbound: { topics: { orders: `locked.orders.${run}` } },
        },
      ],
    }),
  );
  const kafka = new Kafka({ clientId: "provider-sim", brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  let producer: Producer;
  let app: App;
  let metricsPort: number;
  let api: ReturnType<typeof apiClient>;
  let admin: string;
  let checker: string;

  const T = Date.parse("2031-03-01T12:00:00Z");
  const partner = encodeProviderPartner({
    id: "p1",
    name: "Vibe Concerts",
    role: "organizer",
    status: "APPROVED",
    legal: { name: "OOO Vibe", inn: "7707083893", ogrn: "1027700132195", address: "Moscow, Arbat 1" },
  });
  const eventMessage = (id: string, name: string) =>
    encodeProviderEvent({
      id,
      name,
      description: "Loud.",
      status: "PUBLIC",
      org: "p1",
      venue: "club-1",
      lifetime: { start: Date.parse("2031-06-01T16:00:00Z"), finish: Date.parse("2031-06-01T19:00:00Z") },
      category: "concert",
      media: { cover: "https://img.example/rock.jpg" },
      sets: [
        { id: "s1", name: "Dance floor", amount: 300 },
        { id: "s2", name: "Balcony", with_seats: true, amount: 40 },
      ],
      tickets_amount: 340,
      updated_at: T,
    });
  const event = eventMessage("e1", "Rock night");
  const customer = { user: "u-1", name: "Ann Lee", email: "ann@example.com", phone: "+79001234567" };
  const orderMessage = (id: string, eventId: string, tickets: Array<{ id: string; barcode: string }>) =>
    encodeProviderOrder({
      id,
      number: 5001,
      status: "DONE",
      event: eventId,
      org: "p1",
      created_at: T,
      done_at: T + 60_000,
      settings: { customer },
      tickets: tickets.map((t, i) => ({ ...t, serial: "AA", number: i + 1, set: "s1", price: 250000, nominal: 250000 })),
    });
  // Carries fields our schema does not declare: it must apply all the same.
  const order = withUnknownFields(
    orderMessage("o1", "e1", [
      { id: "t1", barcode: "4600000000017" },
      { id: "t2", barcode: "4600000000024" },
    ]),
  );
  const refund = encodeProviderRefundRequest({
    id: "r1",
    status: "APPROVED",
    order: "o1",
    tickets: [{ id: "t2", price: 250000, nominal: 250000 }],
    event: "e1",
    org: "p1",
  });
  const bad = {
    partnerJunk: Buffer.from("this is not a Partner at all"),
    orderJunk: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
    unknownEvent: orderMessage("o2", "e404", [{ id: "t3", barcode: "4600000000031" }]),
    unknownOrder: encodeProviderRefundRequest({ id: "r2", status: "APPROVED", order: "o404", tickets: [{ id: "t9" }] }),
  };

  async function produce(topic: string, key: string, value: Buffer, headers: Record<string, string> = {}) {
    await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
  }

  async function inbound(): Promise<InboundStatus> {
    const status = await app.broker.call<{ partners: Array<{ id: string; inbound: InboundStatus | null }> }>(
      "kafka-relay.status",
    );
    return status.partners.find((p) => p.id === "tc")!.inbound!;
  }

  const until = (accept: (s: InboundStatus) => boolean) => eventually(inbound, accept, 40_000);

  /** The door, once the tickets read model knows the barcode (it follows the log). */
  function checkIn(barcode: string) {
    return eventually(
      () => api<{ ticketId: string; status: string }>("POST", "/checkin", { token: checker, body: { barcode } }),
      (r) => r.status !== 404,
    );
  }

  async function streamVersion(log: "catalogue" | "sales", stream: string): Promise<number> {
    const commits = await app.runtime.store.log(log).readStream(stream);
    return commits.at(-1)?.seq ?? 0;
  }

  beforeAll(async () => {
    // The provider's topics exist before we consume them (auto-creation is off on the test broker).
    await ensureTopics(kafka, Object.values(topics));
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    metricsPort = await freePort();
    app = await startApp({ ...env, KAFKA_PARTNERS_FILE: partnersFile, METRICS_PORT: String(metricsPort) });
    api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf(env);
    admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    checker = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "ext-tc-p1" });
  }, 60_000);
  afterAll(async () => {
    await producer?.disconnect();
    await app?.stop();
  });

  test("valid messages applied once, bad ones dead-lettered with their reason and bytes, the consumer never stuck", async () => {
    // The catalogue first, with junk between: the organizer and the event.
    await produce(topics.partners, "junk-1", bad.partnerJunk, { "trace-id": "junk-partner" });
    await produce(topics.partners, "p1", partner);
    await produce(topics.events, "e1", event);
    const organizer = await eventually(
      () => api<Record<string, unknown>>("GET", "/organizers/ext-tc-p1"),
      (r) => r.status === 200,
      40_000,
    );
    expect(organizer.body).toMatchObject({
      id: "ext-tc-p1",
      name: "Vibe Concerts",
      legals: { name: "OOO Vibe", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195", address: "Moscow, Arbat 1" },
      source: { partner: "tc", id: "p1" },
    });
    const shown = await eventually(
      () => api<Record<string, unknown>>("GET", "/events/ext-tc-e1"),
      (r) => r.status === 200 && (r.body.organizer as { name: string }).name === "Vibe Concerts",
      40_000,
    );
    expect(shown.body).toMatchObject({
      id: "ext-tc-e1",
      name: "Rock night",
      status: "on_sale",
      category: "concert",
      startsAtIso: "2031-06-01T19:00:00+03:00",
      timezone: "Europe/Moscow",
      organizer: { id: "ext-tc-p1", name: "Vibe Concerts" },
      mediaUrl: "https://img.example/rock.jpg",
      source: { partner: "tc", id: "e1" },
      categories: [],
      ticketSets: [
        { id: "s1", name: "Dance floor", seated: false, amount: 300 },
        { id: "s2", name: "Balcony", seated: true, amount: 40 },
      ],
      capacity: 340,
      availability: null,
    });
    // Listed where events are listed; not sold here.
    const listed = await api<{ rows: Array<{ id: string }> }>("GET", "/events?organizer=ext-tc-p1");
    expect(listed.body.rows.map((e) => e.id)).toEqual(["ext-tc-e1"]);
    const buyer = await (await devIssuerOf(env)).mint({ sub: "ann", roles: ["customer"] });
    const sale = await api("POST", "/orders", {
      token: buyer,
      body: {
        eventId: "ext-tc-e1",
        items: [{ categoryId: "s1", quantity: 1 }],
        customer: { email: "a@b.cd", phone: "+79001234567" },
      },
    });
    expect(sale.status).toBe(409);
    expect(sale.body).toMatchObject({ type: "SOLD_ELSEWHERE" });

    // The sales: a completed order (with unknown fields), junk, an order of an event never imported.
    await produce(topics.orders, "o1", order);
    await produce(topics.orders, "junk-2", bad.orderJunk, { "trace-id": "junk-order" });
    await produce(topics.orders, "o2", bad.unknownEvent);
    const order1 = await eventually(
      () => api<{ status: string; tickets: Array<{ id: string; status: string }> }>("GET", "/orders/ext-tc-o1", { token: admin }),
      (r) => r.status === 200,
      40_000,
    );
    expect(order1.body).toMatchObject({
      status: "paid",
      eventId: "ext-tc-e1",
      organizerId: "ext-tc-p1",
      customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann", lastName: "Lee" },
      amount: 500000,
      source: { partner: "tc", id: "o1" },
    });
    // The refund of one ticket, and one of an order we never saw.
    await produce(topics.refundRequests, "r1", refund);
    await produce(topics.refundRequests, "r2", bad.unknownOrder);
    await until((s) => s.counts.deadLettered === 4 && s.counts.applied === 4);
    const ticketsBefore = await eventually(
      () => api<{ rows: Array<{ id: string; status: string }> }>("GET", "/orders/ext-tc-o1/tickets", { token: admin }),
      (r) => r.body.rows?.some((t) => t.status === "refunded"),
    );
    expect(ticketsBefore.body.rows.map((t) => [t.id, t.status])).toEqual([
      ["ext-tc-t1", "active"],
      ["ext-tc-t2", "refunded"],
    ]);

    // Every valid message again: nothing changes. Then a new event: the consumer is not stuck.
    const streams: Array<["catalogue" | "sales", string]> = [
      ["catalogue", "organizer-ext-tc-p1"],
      ["catalogue", "event-ext-tc-e1"],
      ["sales", "order-ext-tc-o1"],
      ["sales", "barcode-4600000000017"],
      ["sales", "barcode-4600000000024"],
    ];
    const versions = await Promise.all(streams.map(([log, stream]) => streamVersion(log, stream)));
    expect(versions).toEqual([1, 1, 2, 1, 1]);
    await produce(topics.partners, "p1", partner);
    await produce(topics.events, "e1", event);
    await produce(topics.orders, "o1", order);
    await produce(topics.refundRequests, "r1", refund);
    await produce(topics.events, "e2", eventMessage("e2", "Jazz night"));
    await until((s) => s.counts.unchanged === 4 && s.counts.applied === 5);
    expect((await api("GET", "/events/ext-tc-e2")).status).toBe(200);
    expect(await Promise.all(streams.map(([log, stream]) => streamVersion(log, stream)))).toEqual(versions);
    const status = await inbound();
    expect(status).toMatchObject({
      state: "running",
      counts: { applied: 5, unchanged: 4, skipped: 0, deadLettered: 4 },
      lastError: null,
    });
    // Topics are consumed side by side, so which dead letter came last varies; each is checked below.
    expect(status.lastDeadLetter).toEqual(
      expect.objectContaining({ reason: expect.stringMatching(/.+/), topic: expect.stringMatching(/^tc\./) }),
    );

    // The door: the valid ticket once, the refunded one never; both scanned by the provider's barcode.
    const admitted = await checkIn("4600000000017");
    expect(admitted.status).toBe(200);
    expect(admitted.body).toMatchObject({ ticketId: "ext-tc-t1", status: "used", eventId: "ext-tc-e1", category: "Dance floor" });
    const again = await api("POST", "/checkin", { token: checker, body: { barcode: "4600000000017" } });
    expect([again.status, again.body.type]).toEqual([409, "TICKET_ALREADY_USED"]);
    const refunded = await api("POST", "/checkin", { token: checker, body: { barcode: "4600000000024" } });
    expect([refunded.status, refunded.body.type]).toEqual([409, "TICKET_NOT_VALID"]);

    // The dead-letter topic holds exactly the four bad messages: reason, origin, original bytes and headers.
    const letters = await readTopic(kafka, deadLetterTopic, 4);
    expect(letters).toHaveLength(4);
    const byKey = new Map(letters.map((l) => [l.key, l]));
    const expected: Array<[string, Buffer, string, RegExp]> = [
      ["junk-1", bad.partnerJunk, topics.partners, /^undecodable Partner: /],
      ["junk-2", bad.orderJunk, topics.orders, /^undecodable Order: /],
      ["o2", bad.unknownEvent, topics.orders, /^unknown event ext-tc-e404$/],
      ["r2", bad.unknownOrder, topics.refundRequests, /^unknown order ext-tc-o404$/],
    ];
    for (const [key, value, topic, reason] of expected) {
      const letter = byKey.get(key)!;
      expect(letter).toBeDefined();
      expect(Buffer.compare(letter.value, value)).toBe(0);
      expect(letter.headers).toMatchObject({
        "dlq-reason": expect.stringMatching(reason),
        "dlq-topic": topic,
        "dlq-partition": expect.stringMatching(/^\d+$/),
        "dlq-offset": expect.stringMatching(/^\d+$/),
      });
      expect(Date.parse(letter.headers["dlq-at"])).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(byKey.get("junk-1")!.headers["trace-id"]).toBe("junk-partner");
    expect(byKey.get("junk-2")!.headers["trace-id"]).toBe("junk-order");
  }, 120_000);

  test("metrics: the consumer's lag per topic of the partner, scraped over HTTP, down to 0 once all is read", async () => {
    const lag = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = (topic: string) =>
        text.split("\n").find((l) => l.startsWith("ticketing_kafka_consumer_lag{") && l.includes(`topic="${topic}"`));
      return [topics.partners, topics.events, topics.orders].map((topic) => line(topic)?.split(" ").at(-1) ?? "absent");
    };
    expect(await eventually(lag, (values) => values.every((v) => v === "0"), 40_000)).toEqual(["0", "0", "0"]);
  });

  test("/api/ready shows the consumers: the healthy one running, the refused one named with its error", async () => {
    const ready = await eventually(
      () =>
        api<{ status: string; bridge: string[]; nodes: Array<{ runners: Array<{ runner: string; state: string }> }> }>(
          "GET",
          "/ready",
          { token: admin },
        ),
      (r) => r.body.bridge?.some((p) => p.includes("kafka.locked.inbound")),
      40_000,
    );
    expect([ready.status, ready.body.status]).toEqual([200, "degraded"]);
    expect(ready.body.bridge.find((p) => p.includes("kafka.locked.inbound"))).toMatch(/SASL|authentic/i);
    expect(ready.body.bridge.some((p) => p.includes("kafka.tc.inbound"))).toBe(false);
    const runners = ready.body.nodes.flatMap((n) => n.runners);
    expect(runners.find((r) => r.runner === "kafka.tc.inbound")).toMatchObject({ state: "running" });
    expect(runners.find((r) => r.runner === "kafka.locked.inbound")).toMatchObject({ state: "halted" });
  });

  test("REPL: the dead letters listed; one re-driven after its cause was fixed is applied", async () => {
    const status = await bridgeCommand(app.broker, {});
    expect(status).toMatch(/tc\s+kafka\.tc\.inbound\s+.*running\s+5 applied, 4 unchanged, 0 skipped, 4 dead/);

    const listing = await bridgeCommand(app.broker, { action: "dlq", partner: "tc" });
    const rows = listing.split("\n").slice(1);
    expect(rows).toHaveLength(4);
    expect(listing).toMatch(
      new RegExp(`^\\d+\\s+${topics.orders.replace(/\./g, "\\.")}/\\d+@\\d+\\s+unknown event ext-tc-e404\\s+\\S+Z\\s*$`, "m"),
    );
    expect(listing).toMatch(/unknown order ext-tc-o404/);
    expect(listing).toMatch(/undecodable Partner/);
    const offset = rows
      .find((r) => r.includes("unknown event ext-tc-e404"))!
      .trim()
      .split(/\s+/)[0];

    // The operator fixes the cause (the event arrives), then re-drives that one dead letter.
    await produce(topics.events, "e404", eventMessage("e404", "Late event"));
    await eventually(
      () => api("GET", "/events/ext-tc-e404"),
      (r) => r.status === 200,
      40_000,
    );
    const redriven = JSON.parse(await bridgeCommand(app.broker, { action: "redrive", partner: "tc", target: offset }));
    expect(redriven).toEqual({ partner: "tc", redriven: [{ offset, topic: topics.orders, key: "o2" }] });
    const order2 = await eventually(
      () => api<{ status: string; tickets: Array<{ id: string }> }>("GET", "/orders/ext-tc-o2", { token: admin }),
      (r) => r.status === 200,
      40_000,
    );
    expect(order2.body).toMatchObject({ status: "paid", eventId: "ext-tc-e404", tickets: [{ id: "ext-tc-t3" }] });
    const after = await until((s) => s.counts.applied === 7);
    expect(after.counts.deadLettered).toBe(4);
    const admitted = await checkIn("4600000000031");
    expect(admitted.status).toBe(200);

    // Listed as re-driven; nothing new in the dead-letter topic.
    const relisted = await bridgeCommand(app.broker, { action: "dlq", partner: "tc" });
    expect(relisted.split("\n").find((r) => r.includes("unknown event ext-tc-e404"))).toMatch(
      /\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z/,
    );
    expect(relisted.split("\n").slice(1)).toHaveLength(4);
    expect(await bridgeCommand(app.broker, { action: "redrive", partner: "tc", target: "999" }).catch((e) => e.message)).toMatch(
      /no dead letter at 999/,
    );
    expect(await bridgeCommand(app.broker, { action: "dlq", partner: "nobody" }).catch((e) => e.message)).toMatch(
      /no inbound streams/,
    );
  }, 90_000);

  test("a service that is down is weather, not a bad message: the consumer waits (no dead letter), /api/ready says why", async () => {
    const other = { partners: `tc2.partners.${run}`, events: `tc2.events.${run}`, orders: `tc2.orders.${run}` };
    await ensureTopics(kafka, Object.values(other));
    const env2 = quickStartEnv("inbound-down", {
      KAFKA_BROKERS: infra.kafkaBrokers.join(","),
      // No orders service in this process (yet).
      SERVICES: "api,organizers,artists,venues,events,inventory,tickets,kafka-relay,runners",
    });
    const file = join(env2.DATA_DIR, "partners.json");
    const dlq = `tc2.dead-letters.${run}`;
    const config = { groupId: `inbound-down-${run}`, topics: other, deadLetterTopic: dlq, referenceWaitMs: 0 };
    writeFileSync(file, JSON.stringify({ partners: [{ id: "tc2", inbound: config }] }));
    const app2 = await startApp({ ...env2, KAFKA_PARTNERS_FILE: file });
    try {
      const status2 = async () =>
        (await app2.broker.call<{ partners: Array<{ inbound: InboundStatus }> }>("kafka-relay.status")).partners[0].inbound;
      await produce(other.partners, "p1", partner);
      await produce(other.events, "e1", event);
      await eventually(status2, (s) => s.counts.applied === 2, 40_000);
      await produce(other.orders, "o1", order);
      const stuck = await eventually(status2, (s) => s.state === "retrying", 40_000);
      expect(stuck.lastError).toMatch(/orders\.importOrder.*not found/i);
      const issuer = await devIssuerOf(env2);
      const root = await issuer.mint({ sub: "root", roles: ["admin"] });
      const ready = await apiClient(app2.apiUrl!)<{ status: string; bridge: string[] }>("GET", "/ready", { token: root });
      expect(ready.body.status).toBe("degraded");
      expect(ready.body.bridge.join("\n")).toMatch(/kafka\.tc2\.inbound.*orders\.importOrder/);

      // The service comes up: the same message is applied, nothing was dead-lettered.
      app2.broker.createService(SERVICE_FACTORIES.orders(app2.runtime));
      const recovered = await eventually(status2, (s) => s.counts.applied === 3, 40_000);
      expect(recovered).toMatchObject({ state: "running", lastError: null, counts: { deadLettered: 0 } });
      const imported = await apiClient(app2.apiUrl!)<{ status: string }>("GET", "/orders/ext-tc2-o1", { token: root });
      expect(imported.body.status).toBe("paid");
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(dlq);
        expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(0);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await app2.stop();
    }
  }, 90_000);
});
