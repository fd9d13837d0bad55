/**
 * The provider's streams as the provider really sends them (issue 8, section 5b), on the real
 * broker, one node: messages whose event arrives later on another topic, organizers with
 * versions, box-office orders without an e-mail, open-date events, cancelled events at the door,
 * and what the provider says about artists, categories, prices, sectors and distributors.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { startApp, type App } from "../../lib/app/app";
import { ensureTopics } from "../../lib/kafka/kafka";
import { encodeProviderEvent, encodeProviderOrder, encodeProviderPartner } from "../../lib/kafka/provider-proto";
import type { InboundStatus } from "../../services/kafka-relay/partner-inbound";
import { apiClient, eventually } from "../support/api-client";
import { loadInfra } from "../support/infra";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

/** Long enough that a reference produced a moment later arrives within it on a busy machine. */
const REFERENCE_WAIT_MS = 15_000;

describe("inbound streams as the provider really sends them (real broker, one node)", () => {
  const infra = loadInfra(["kafka"]);
  const run = randomUUID().slice(0, 8);
  const topics = {
    partners: `rw.partners.${run}`,
    events: `rw.events.${run}`,
    orders: `rw.orders.${run}`,
    refundRequests: `rw.refund-requests.${run}`,
  };
  const deadLetterTopic = `rw.dead-letters.${run}`;
  const groupId = `inbound-reality-${run}`;
  const env = quickStartEnv("inbound-reality", { KAFKA_BROKERS: infra.kafkaBrokers.join(",") });
  const partnersFile = join(env.DATA_DIR, "partners.json");
  writeFileSync(
    partnersFile,
    JSON.stringify({
      partners: [
        {
          id: "rw",
          inbound: {
            groupId,
            topics,
            deadLetterTopic,
            timezone: "Europe/Moscow",
            referenceWaitMs: REFERENCE_WAIT_MS,
            // The provider's category ids are its own: this installation maps them.
            categories: { "5f0c": "theater" },
          },
        },
      ],
    }),
  );
  const kafka = new Kafka({ clientId: "provider-sim", brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  let producer: Producer;
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let admin: string;

  const T = Date.parse("2031-03-01T12:00:00Z");
  const lifetime = { start: Date.parse("2031-06-01T16:00:00Z"), finish: Date.parse("2031-06-01T19:00:00Z") };
  const partner = encodeProviderPartner({ id: "p1", name: "Vibe Concerts", role: "organizer", status: "APPROVED" });
  const eventMessage = (id: string) =>
    encodeProviderEvent({
      id,
      name: `Event ${id}`,
      status: "PUBLIC",
      org: "p1",
      lifetime,
      category: "concert",
      sets: [{ id: "s1", name: "Dance floor", amount: 300 }],
      tickets_amount: 300,
      updated_at: T,
    });
  const orderMessage = (id: string, eventId: string, barcode: string) =>
    encodeProviderOrder({
      id,
      number: 7001,
      status: "DONE",
      event: eventId,
      org: "p1",
      created_at: T,
      done_at: T + 60_000,
      settings: { customer: { user: "u-1", name: "Ann Lee", email: "ann@example.com", phone: "+79001234567" } },
      tickets: [{ id: `${id}-t1`, barcode, serial: "AA", number: 1, set: "s1", price: 250000, nominal: 250000 }],
    });

  async function produce(topic: string, key: string, value: Buffer) {
    const [sent] = await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    return { partition: sent.partition, offset: sent.baseOffset! };
  }

  async function inbound(): Promise<InboundStatus> {
    const status = await app.broker.call<{ partners: Array<{ id: string; inbound: InboundStatus | null }> }>(
      "kafka-relay.status",
    );
    return status.partners.find((p) => p.id === "rw")!.inbound!;
  }

  const order = (id: string) =>
    api<{ status: string; eventId: string; tickets: Array<{ id: string }> }>("GET", `/orders/${id}`, { token: admin });

  beforeAll(async () => {
    await ensureTopics(kafka, Object.values(topics));
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    app = await startApp({ ...env, KAFKA_PARTNERS_FILE: partnersFile });
    api = apiClient(app.apiUrl!);
    admin = await (await devIssuerOf(env)).mint({ sub: "root", roles: ["admin"] });
    await produce(topics.partners, "p1", partner);
    await eventually(
      () => api("GET", "/organizers/ext-rw-p1"),
      (r) => r.status === 200,
      40_000,
    );
  }, 60_000);
  afterAll(async () => {
    await producer?.disconnect();
    await app?.stop();
  });

  test("an order produced before its event (another topic) waits without stopping the consumer: both imported, nothing dead-lettered", async () => {
    await produce(topics.orders, "o1", orderMessage("o1", "e1", "4600000000017"));
    // The order is set aside; the consumer goes on reading, so the event can arrive.
    const waiting = await eventually(inbound, (s) => s.held === 1, 40_000);
    expect(waiting.waiting).toMatch(/unknown event ext-rw-e1/);
    await produce(topics.events, "e1", eventMessage("e1"));
    const imported = await eventually(
      () => order("ext-rw-o1"),
      (r) => r.status === 200,
      40_000,
    );
    expect(imported.body).toMatchObject({ status: "paid", eventId: "ext-rw-e1", tickets: [{ id: "ext-rw-o1-t1" }] });
    const after = await eventually(inbound, (s) => s.held === 0);
    expect(after).toMatchObject({ state: "running", counts: { deadLettered: 0 }, lastDeadLetter: null, waiting: null });
  }, 90_000);

  test(
    "an order whose event never comes is dead-lettered only after the wait, while other messages flow; its offset is never committed meanwhile",
    async () => {
      const producedAt = Date.now();
      const missing = await produce(topics.orders, "o2", orderMessage("o2", "e-missing", "4600000000024"));
      await eventually(inbound, (s) => s.held === 1, 40_000);
      // Meanwhile other events and orders, on both topics, are imported.
      await produce(topics.events, "e3", eventMessage("e3"));
      await produce(topics.orders, "o3", orderMessage("o3", "e3", "4600000000031"));
      await eventually(
        () => order("ext-rw-o3"),
        (r) => r.status === 200,
        40_000,
      );
      const flowing = await inbound();
      expect(flowing.counts.deadLettered).toBe(0);
      expect(flowing.held).toBe(1);
      // The committed offset of the held order's partition stays at (not past) the held order.
      const offsets = await (async () => {
        const kadmin = kafka.admin();
        await kadmin.connect();
        try {
          return await kadmin.fetchOffsets({ groupId, topics: [topics.orders] });
        } finally {
          await kadmin.disconnect();
        }
      })();
      const committed = offsets[0].partitions.find((p) => p.partition === missing.partition)!.offset;
      expect(BigInt(committed)).toBeLessThanOrEqual(BigInt(missing.offset));

      const dead = await eventually(inbound, (s) => s.counts.deadLettered === 1, REFERENCE_WAIT_MS + 40_000);
      expect(dead.lastDeadLetter).toMatchObject({
        reason: "unknown event ext-rw-e-missing",
        topic: topics.orders,
        partition: missing.partition,
        offset: missing.offset,
      });
      // It waited the whole referenceWaitMs from when it was produced (a lower bound, not a speed).
      expect(Date.parse(dead.lastDeadLetter!.at) - producedAt).toBeGreaterThanOrEqual(REFERENCE_WAIT_MS);
      expect((await order("ext-rw-o2")).status).toBe(404);
      expect(dead.held).toBe(0);
    },
    REFERENCE_WAIT_MS + 120_000,
  );

  test("organizers: an older updated_at never overwrites a newer one; a distributor (NEW, hidden) becomes no organizer", async () => {
    const before = await inbound();
    await produce(
      topics.partners,
      "p2",
      encodeProviderPartner({ id: "p2", name: "New name", role: "organizer", updated_at: T + 2000 }),
    );
    await produce(
      topics.partners,
      "p2",
      encodeProviderPartner({ id: "p2", name: "Old name", role: "organizer", updated_at: T + 1000 }),
    );
    await produce(
      topics.partners,
      "d1",
      encodeProviderPartner({ id: "d1", name: "Ticket Shop", role: "distributor", status: "NEW", hidden: true }),
    );
    await eventually(
      inbound,
      (s) => s.counts.unchanged === before.counts.unchanged + 1 && s.counts.skipped === before.counts.skipped + 1,
      40_000,
    );
    const p2 = await eventually(
      () => api<{ name: string }>("GET", "/organizers/ext-rw-p2"),
      (r) => r.status === 200,
    );
    expect(p2.body.name).toBe("New name");
    expect((await api("GET", "/organizers/ext-rw-d1")).status).toBe(404);
  }, 90_000);

  test("kept as sent: artists, the mapped category, set prices, sectors; a box-office order without contact data; the door refuses a cancelled event", async () => {
    const event5 = (status: "PUBLIC" | "CANCELED", version: number) =>
      encodeProviderEvent({
        id: "e5",
        name: "Hamlet",
        status,
        org: "p1",
        lifetime,
        category: "5f0c",
        artists: ["a1", "a2"],
        sets: [
          {
            id: "s1",
            name: "Stalls",
            sector: "Parterre",
            amount: 10,
            rules: [
              { id: "r1", simple: { price: 300000 } },
              { id: "r2", simple: { price: 250000 } },
            ],
          },
        ],
        tickets_amount: 10,
        updated_at: version,
      });
    await produce(topics.events, "e5", event5("PUBLIC", T));
    const boxOffice = encodeProviderOrder({
      id: "o5",
      number: 7005,
      status: "DONE",
      event: "e5",
      org: "p1",
      done_at: T,
      // Sold at the box office: nobody's e-mail or phone.
      settings: { customer: { user: "", name: "", email: "", phone: "" } },
      tickets: [{ id: "o5-t1", barcode: "4600000000055", serial: "BX", number: 1, set: "s1", sector: "Parterre", price: 250000 }],
    });
    await produce(topics.orders, "o5", boxOffice);
    await produce(topics.orders, "o6", orderMessage("o6", "e5", "4600000000062"));

    const shown = await eventually(
      () => api<Record<string, unknown>>("GET", "/events/ext-rw-e5"),
      (r) => r.status === 200,
      40_000,
    );
    expect(shown.body).toMatchObject({
      category: "theater",
      artists: [
        { id: "ext-rw-a1", name: "" },
        { id: "ext-rw-a2", name: "" },
      ],
      priceFrom: 250000,
      currency: "RUB",
      ticketSets: [{ id: "s1", name: "Stalls", sector: "Parterre", price: 250000, currency: "RUB" }],
    });
    const o5 = await eventually(
      () => api<{ status: string; customer: Record<string, string> }>("GET", "/orders/ext-rw-o5", { token: admin }),
      (r) => r.status === 200,
      40_000,
    );
    expect(o5.body).toMatchObject({ status: "paid", customer: { email: "", phone: "" } });
    const tickets = await api<{ rows: Array<{ id: string; sector?: string; status: string }> }>(
      "GET",
      "/orders/ext-rw-o5/tickets",
      {
        token: admin,
      },
    );
    expect(tickets.body.rows).toMatchObject([{ id: "ext-rw-o5-t1", sector: "Parterre", status: "active" }]);
    await eventually(
      () => order("ext-rw-o6"),
      (r) => r.status === 200,
      40_000,
    );

    // The box-office ticket is valid at the door.
    const checkIn = (barcode: string) =>
      eventually(
        () => api<{ status: string; type?: string }>("POST", "/checkin", { token: admin, body: { barcode } }),
        (r) => r.status !== 404,
      );
    expect((await checkIn("4600000000055")).status).toBe(200);
    // The provider cancels the event: nothing refunds the imported orders, and the door refuses their tickets.
    await produce(topics.events, "e5", event5("CANCELED", T + 1));
    await eventually(
      () => api<{ status: string }>("GET", "/events/ext-rw-e5"),
      (r) => r.body.status === "cancelled",
      40_000,
    );
    const refused = await checkIn("4600000000062");
    expect([refused.status, refused.body.type]).toEqual([409, "EVENT_CANCELLED"]);
  }, 90_000);

  test("an open-date event (no lifetime, open_date set) and its orders are imported, its dates shown as unknown; its tickets admit", async () => {
    await produce(
      topics.events,
      "e7",
      encodeProviderEvent({
        id: "e7",
        name: "Museum pass",
        status: "PUBLIC",
        org: "p1",
        open_date: true,
        category: "museum",
        sets: [{ id: "s1", name: "Entry", amount: 1000 }],
        updated_at: T,
      }),
    );
    await produce(topics.orders, "o7", orderMessage("o7", "e7", "4600000000079"));
    const shown = await eventually(
      () => api<Record<string, unknown>>("GET", "/events/ext-rw-e7"),
      (r) => r.status === 200,
      40_000,
    );
    expect(shown.body).toMatchObject({
      name: "Museum pass",
      status: "on_sale",
      startsAt: null,
      endsAt: null,
      startsAtIso: null,
      endsAtIso: null,
    });
    const o7 = await eventually(
      () => order("ext-rw-o7"),
      (r) => r.status === 200,
      40_000,
    );
    expect(o7.body).toMatchObject({ status: "paid", eventId: "ext-rw-e7" });
    const admitted = await eventually(
      () => api<{ status: string }>("POST", "/checkin", { token: admin, body: { barcode: "4600000000079" } }),
      (r) => r.status !== 404,
    );
    expect([admitted.status, admitted.body.status]).toEqual([200, "used"]);
    expect((await inbound()).counts.deadLettered).toBe(1);
  }, 90_000);

  test("a node stopping while a message is held loses nothing: the next consumer of the group gets it again", async () => {
    const before = await inbound();
    await produce(topics.orders, "o8", orderMessage("o8", "e8", "4600000000086"));
    await eventually(inbound, (s) => s.held === 1, 40_000);
    // Stopped with the order held: its offset was never committed.
    await app.stop();
    app = await startApp({ ...env, KAFKA_PARTNERS_FILE: partnersFile });
    api = apiClient(app.apiUrl!);
    await produce(topics.events, "e8", eventMessage("e8"));
    const imported = await eventually(
      () => order("ext-rw-o8"),
      (r) => r.status === 200,
      40_000,
    );
    expect(imported.body).toMatchObject({ status: "paid", eventId: "ext-rw-e8" });
    // The new node's own counts: nothing dead-lettered, nothing held.
    expect(await eventually(inbound, (s) => s.held === 0)).toMatchObject({ counts: { deadLettered: 0 } });
    expect(before.counts.deadLettered).toBe(1);
  }, 120_000);
});
