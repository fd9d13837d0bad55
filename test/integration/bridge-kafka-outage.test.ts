/**
 * Issue 4 §4: "Kafka stopped for a while during sales, then started: nothing is lost, order per
 * key holds." A broker of this test's own (the shared one stays up for every other suite) is
 * killed while orders keep being written and a partner's bridge publishes them; it comes back on
 * the same ports and data. A plain consumer then finds every order and ticket message, each key's
 * versions in order (repeats allowed), and the bridge's status showed the outage and recovered.
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import type { PartnerConfig } from "../../lib/config/partners";
import type { RunnerStatus } from "../../lib/eventlog/runner";
import { METRICS } from "../../lib/metrics/app-metrics";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { PartnerBridge } from "../../services/kafka-relay/partner-bridge";
import { salesMessages } from "../../services/kafka-relay/partner-messages";
import { eventually } from "../support/api-client";
import { testMetrics } from "../support/metrics";
import { ownKafka, type OwnKafka } from "../support/own-kafka";
import { checkInTicket, writeCompletedOrder, type WrittenOrder } from "../support/sales-writer";

interface Received {
  topic: string;
  key: string;
  eventId: string;
  version: number;
}

/** Everything on the topics, until every expected `topic|key|event-id` arrived. */
async function readAll(brokers: string[], topics: string[], expected: Set<string>): Promise<Received[]> {
  const kafka = new Kafka({ clientId: "outage-check", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `outage-check-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const received: Received[] = [];
  const missing = new Set(expected);
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${missing.size} of ${expected.size} messages never arrived, e.g. ${[...missing][0]}`)),
        60_000,
      );
      void consumer.run({
        eachMessage: async ({ topic, message }) => {
          const eventId = String(message.headers!["event-id"]);
          const key = message.key!.toString();
          received.push({ topic, key, eventId, version: Number(String(message.headers!["stream-version"])) });
          missing.delete(`${topic}|${key}|${eventId}`);
          if (missing.size === 0) {
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

describe("partner bridge through a Kafka outage", () => {
  let kafka: OwnKafka;
  let store: EmbeddedStore;
  let bridge: PartnerBridge | undefined;

  beforeAll(async () => {
    kafka = await ownKafka();
    store = await EmbeddedStore.open({ logs: ["sales", "catalogue"] });
  }, 120_000);

  afterAll(async () => {
    await bridge?.stop();
    await store?.close();
    await kafka?.destroy();
  }, 60_000);

  test("Kafka stopped for a while during sales, then started: nothing is lost, order per key holds", async () => {
    const log = store.log("sales");
    const run = randomUUID().slice(0, 8);
    const topics = { orders: `outage.orders.${run}`, tickets: `outage.tickets.${run}` };
    const partner: PartnerConfig = {
      id: "outage",
      applicationId: "ticketland-test",
      schemaVersion: "1.0",
      connection: { brokers: kafka.brokers, clientId: "outage-test", ssl: false },
      topics: { orders: { name: topics.orders, format: "json" }, tickets: { name: topics.tickets, format: "json" } },
    };
    // The figures an operator scrapes, as METRICS_PORT enables them.
    const { metrics, figure: value } = testMetrics();
    const figure = (name: string, topic: string) => value(name, { partner: "outage", application_id: "ticketland-test", topic });
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (...a: unknown[]) => warnings.push(a.join(" ")), error: () => undefined };
    bridge = new PartnerBridge({
      partner,
      store,
      logs: { sales: log, catalogue: store.log("catalogue") },
      owner: "outage-test",
      logger,
      tuning: { pollMs: 100, batchSize: 50 },
      metrics,
    });
    const status = async (): Promise<RunnerStatus> => (await bridge!.status())[0];
    await bridge.start();

    // Sales go on the whole time: orders, and check-ins of tickets sold a little earlier (a
    // second version of a ticket's message, so the order per key is something to check).
    const written: WrittenOrder[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        written.push(await writeCompletedOrder(log, n));
        if (n % 3 === 0 && written.length > 10) {
          const earlier = written[written.length - 10];
          await checkInTicket(log, earlier, earlier.tickets[0]);
        }
        bridge!.wake("sales");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const until = (condition: () => boolean, timeoutMs = 60_000) =>
      eventually(
        async () => condition(),
        (ok) => ok,
        timeoutMs,
      );

    // Messages flow before the outage.
    await eventually(status, (s) => s.pos > 100 && s.lastError === null, 60_000);

    await kafka.stop("SIGKILL");
    const stoppedAt = Date.now();
    const writtenAtStop = written.length;
    // The bridge says what is wrong, and its checkpoint stays behind the log while sales go on.
    const down = await eventually(status, (s) => /kafka/i.test(s.lastError ?? ""), 60_000);
    await until(() => Date.now() - stoppedAt >= 8_000 && written.length >= writtenAtStop + 100);
    const stalled = await status();
    expect(stalled.lag).toBeGreaterThan(0);
    expect(stalled.state).not.toBe("halted");

    await kafka.start();
    const outageMs = Date.now() - stoppedAt;
    const writtenAtRestart = written.length;
    await until(() => written.length >= writtenAtRestart + 50);
    writing = false;
    await writer;
    const head = await log.head();
    const recovered = await eventually(status, (s) => s.pos === head && s.lag === 0 && s.lastError === null, 90_000);
    expect(recovered.fault).toBeNull();

    // Every message the log maps to is on the broker.
    const expected = (await salesMessages(log)(await log.readFrom(0, head))).map((m) => ({
      topic: topics[m.kind as keyof typeof topics],
      key: m.key,
      eventId: m.sourceEventId,
      version: m.streamVersion,
    }));
    const expectedIds = new Set(expected.map((m) => `${m.topic}|${m.key}|${m.eventId}`));
    const received = await readAll(kafka.brokers, Object.values(topics), expectedIds);
    const receivedIds = new Set(received.map((m) => `${m.topic}|${m.key}|${m.eventId}`));
    expect([...expectedIds].filter((id) => !receivedIds.has(id))).toEqual([]);
    expect(receivedIds.size).toBe(expectedIds.size);

    // Per key, a version never seen before is above every version before it; repeats are allowed.
    const versions = new Map<string, number[]>();
    for (const m of received) {
      const id = `${m.topic}|${m.key}`;
      versions.set(id, [...(versions.get(id) ?? []), m.version]);
    }
    const backwards: string[] = [];
    for (const [id, list] of versions) {
      const seen = new Set<number>();
      for (const v of list) {
        if (!seen.has(v) && seen.size > 0 && v < Math.max(...seen)) backwards.push(`${id}: ${list.join(",")}`);
        seen.add(v);
      }
    }
    expect(backwards).toEqual([]);
    // The check covered keys with more than one version (tickets sold, then checked in) and
    // sales written while the broker was down.
    const multi = [...versions.values()].filter((list) => new Set(list).size > 1).length;
    expect(multi).toBeGreaterThan(20);
    expect(writtenAtRestart - writtenAtStop).toBeGreaterThanOrEqual(100);
    expect(down.lastError).toMatch(/kafka/i);
    expect(warnings.some((w) => /broker refused a batch/.test(w))).toBe(true);
    // The outage as the metrics tell it: refused sends, each tried again, and at least every
    // distinct message counted as sent (repeats after the outage count again).
    for (const topic of Object.values(topics)) {
      expect(figure(METRICS.kafkaSendErrors, topic)).toBeGreaterThan(0);
      expect(figure(METRICS.kafkaSendRetries, topic)).toBeGreaterThan(0);
    }
    const sent = Object.values(topics).reduce((sum, topic) => sum + figure(METRICS.kafkaSent, topic), 0);
    expect(sent).toBeGreaterThanOrEqual(expectedIds.size);
    console.log(
      `outage: broker down ${(outageMs / 1000).toFixed(1)} s until it answered again, ${writtenAtRestart - writtenAtStop} orders ` +
        `written meanwhile; ${received.length} messages received, ${expectedIds.size} distinct, ${multi} keys with ` +
        `several versions; the bridge said "${down.lastError}"`,
    );
  }, 240_000);
});
