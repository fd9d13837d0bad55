import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { createKafka } from "../../lib/kafka/kafka";
import { KafkaRelay, type RelayMapper } from "../../lib/kafka/relay";
import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { silentLogger } from "../support/counter";
import { loadInfra } from "../support/infra";

const STREAMS = 10;

function mapperFor(topic: string): RelayMapper {
  return async (commits) =>
    commits.flatMap((c) =>
      c.events.map((e, index) => ({
        topic,
        key: c.stream,
        value: JSON.stringify({ stream: c.stream, seq: c.seq, index }),
        headers: { "content-type": "application/json", "event-id": e.id, "stream-version": String(c.seq) },
      })),
    );
}

async function appendMany(store: EmbeddedStore, from: number, count: number): Promise<void> {
  const log = store.log("test");
  for (let i = from; i < from + count; i++) {
    const stream = `s${i % STREAMS}`;
    await log.append({ stream, expectedSeq: Math.floor(i / STREAMS), events: [{ type: "Tick", data: { i } }] });
  }
}

/** Reads the whole topic with a plain consumer: key -> versions in arrival order. */
async function readTopic(kafka: Kafka, topic: string, expectedDistinct: number): Promise<Map<string, number[]>> {
  const consumer = kafka.consumer({ groupId: `check-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const byKey = new Map<string, number[]>();
  const seen = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${seen.size} of ${expectedDistinct} distinct messages arrived`)),
      20_000,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        const { seq } = JSON.parse(message.value!.toString()) as { seq: number };
        byKey.set(key, [...(byKey.get(key) ?? []), seq]);
        seen.add(message.headers!["event-id"]!.toString());
        if (seen.size >= expectedDistinct) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return byKey;
}

describe("Kafka relay against the real broker", () => {
  test("a relay restart mid-stream loses nothing and never reorders a key", async () => {
    const infra = loadInfra(["kafka"]);
    const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: "relay-test", ssl: false });
    const topic = `relay-test-${randomUUID()}`;
    const store = await EmbeddedStore.open({ logs: ["test"] });
    const relay = (owner: string) =>
      new KafkaRelay({
        name: "relay-test",
        kafka,
        store,
        log: store.log("test"),
        topics: [topic],
        map: mapperFor(topic),
        owner,
        logger: silentLogger,
        tuning: { pollMs: 20, batchSize: 17, leaseMs: 500 },
      });
    const checkpoints = new Checkpoints(store);

    await appendMany(store, 0, 100);
    const first = relay("first");
    await first.start();
    await appendMany(store, 100, 100);
    for (let i = 0; i < 800 && ((await checkpoints.get("relay-test"))?.pos ?? 0) < 60; i++)
      await new Promise((r) => setTimeout(r, 25));
    await first.stop();
    const stoppedAt = (await checkpoints.get("relay-test"))!.pos;
    expect(stoppedAt).toBeGreaterThanOrEqual(60);

    await appendMany(store, 200, 100);
    const second = relay("second");
    await second.start();
    for (let i = 0; i < 1600 && ((await checkpoints.get("relay-test"))?.pos ?? 0) < 300; i++)
      await new Promise((r) => setTimeout(r, 25));
    await second.stop();
    expect((await checkpoints.get("relay-test"))?.pos).toBe(300);

    const byKey = await readTopic(kafka, topic, 300);
    expect(byKey.size).toBe(STREAMS);
    for (const [key, versions] of byKey) {
      // Each message is either the next version of its key or a repeat of one already seen.
      let max = 0;
      for (const v of versions) {
        expect(v <= max || v === max + 1).toBe(true);
        max = Math.max(max, v);
      }
      expect([...new Set(versions)]).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(key).toMatch(/^s\d$/);
    }
    await store.close();
  });
});
