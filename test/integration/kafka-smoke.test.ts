/**
 * Early proof that kafkajs 2.2.4 works against the real Kafka 4.x broker started by
 * `npm run infra:up`: admin, the idempotent producer, consumer groups with offsets, and
 * SCRAM on the partner (SASL_PLAINTEXT) listener.
 */
import { Kafka, type KafkaConfig, type SASLOptions, logLevel, Partitioners, type IHeaders, type Consumer } from "kafkajs";
import { loadInfra } from "../support/infra";

const infra = loadInfra(["kafka"]);
const runId = `${process.pid}-${Date.now()}`;

const baseConfig: Omit<KafkaConfig, "brokers"> = {
  clientId: "kafka-smoke",
  connectionTimeout: 5000,
  requestTimeout: 10000,
  logLevel: logLevel.WARN,
};

function saslOptions(mechanism: string, password: string): SASLOptions {
  return { mechanism, username: infra.kafkaSasl.username, password } as SASLOptions;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = String(v);
  return out;
}

/** Runs a consumer until `count` messages arrived (or fails after `ms`). */
async function consume(
  consumer: Consumer,
  count: number,
  ms: number,
): Promise<Array<{ partition: number; offset: string; key?: string; value: string; headers: Record<string, string> }>> {
  const received: Array<{
    partition: number;
    offset: string;
    key?: string;
    value: string;
    headers: Record<string, string>;
  }> = [];
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`got ${received.length}/${count} messages in ${ms} ms`)), ms);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            partition,
            offset: message.offset,
            key: message.key?.toString(),
            value: message.value?.toString() ?? "",
            headers: headersToStrings(message.headers),
          });
          if (received.length === count) resolve();
        },
      })
      .catch(reject);
  }).finally(() => clearTimeout(timer));
  return received;
}

async function expectEventually<T>(read: () => Promise<T>, expected: T, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  expect(last).toBe(expected);
}

describe("kafka smoke: kafkajs against the real broker", () => {
  const kafka = new Kafka({ ...baseConfig, brokers: infra.kafkaBrokers });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it("creates topics with the admin client", async () => {
    const topic = `smoke-admin-${runId}`;
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 2, configEntries: [{ name: "retention.ms", value: "3600000" }] }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    expect(await admin.listTopics()).toContain(topic);

    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0].partitions).toHaveLength(2);

    // Auto-creation is off: producing to an unknown topic must fail, not hang. (Quiet
    // client: kafkajs logs every UNKNOWN_TOPIC_OR_PARTITION answer as an error.)
    const quiet = new Kafka({ ...baseConfig, brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
    const producer = quiet.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 1 },
    });
    await producer.connect();
    try {
      await expect(producer.send({ topic: `smoke-missing-${runId}`, messages: [{ value: "x" }] })).rejects.toThrow(
        /does not host this topic-partition|unknown topic/i,
      );
    } finally {
      await producer.disconnect();
    }
  });

  it("idempotent producer + consumer group: keys, headers and per-key order survive", async () => {
    const topic = `smoke-orders-${runId}`;
    const groupId = `smoke-group-${runId}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

    const keys = ["event-1", "event-2", "event-3", "event-4"];
    const sent = Array.from({ length: 40 }, (_, seq) => {
      const key = keys[seq % keys.length];
      return {
        key,
        value: JSON.stringify({ seq, key }),
        headers: { "x-seq": String(seq), "x-trace-id": `trace-${runId}-${seq}`, "content-type": "application/json" },
      };
    });

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // One batch, then one message per request: both paths carry the producer id/sequence.
      const batch = await producer.send({ topic, acks: -1, messages: sent.slice(0, 20) });
      expect(batch.every((r) => r.errorCode === 0)).toBe(true);
      for (const m of sent.slice(20)) {
        await producer.send({ topic, acks: -1, messages: [m] });
      }
    } finally {
      await producer.disconnect();
    }

    // kafkajs' disconnect() waits for the fetch in flight, a long poll of maxWaitTimeInMs
    // (5 s by default) once the topic is drained: keep it short in tests.
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
    await consumer.connect();
    let received: Awaited<ReturnType<typeof consume>>;
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      received = await consume(consumer, sent.length, 20000);
      // The group commits its position (OffsetCommit/OffsetFetch on a 4.x coordinator).
      // kafkajs commits after eachMessage returns, so the last offset lands a moment later.
      await expectEventually(async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        // A partition no key hashed to has no committed offset: -1.
        return committed.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      }, sent.length);
    } finally {
      await consumer.disconnect();
    }

    expect(received).toHaveLength(sent.length);
    for (const key of keys) {
      const mine = received.filter((r) => r.key === key);
      // A key always lands on one partition, and within it in the order produced.
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      expect(mine.map((r) => JSON.parse(r.value).seq)).toEqual(
        sent.filter((s) => s.key === key).map((s) => JSON.parse(s.value).seq),
      );
    }
    for (const r of received) {
      const seq = JSON.parse(r.value).seq as number;
      expect(r.headers).toEqual(sent[seq].headers);
    }
  });

  describe("SASL_PLAINTEXT listener (partner connections)", () => {
    it.each(["scram-sha-512", "scram-sha-256", "plain"])("accepts the partner user with %s", async (mechanism) => {
      const sasl = new Kafka({
        ...baseConfig,
        brokers: infra.kafkaSasl.brokers,
        sasl: saslOptions(mechanism, infra.kafkaSasl.password),
      });
      const saslAdmin = sasl.admin();
      await saslAdmin.connect();
      try {
        const cluster = await saslAdmin.describeCluster();
        expect(cluster.brokers.length).toBeGreaterThan(0);
      } finally {
        await saslAdmin.disconnect();
      }
    });

    it("produces and consumes over SCRAM-SHA-512 with the settings from loadInfra()", async () => {
      const topic = `smoke-partner-${runId}`;
      await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
      const sasl = new Kafka({
        ...baseConfig,
        brokers: infra.kafkaSasl.brokers,
        sasl: saslOptions(infra.kafkaSasl.mechanism, infra.kafkaSasl.password),
      });
      const producer = sasl.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: "k", value: "over-sasl", headers: { h: "1" } }] });
      await producer.disconnect();

      const consumer = sasl.consumer({ groupId: `smoke-partner-${runId}`, maxWaitTimeInMs: 500 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const [msg] = await consume(consumer, 1, 20000);
        expect(msg).toMatchObject({ key: "k", value: "over-sasl", headers: { h: "1" } });
      } finally {
        await consumer.disconnect();
      }
    });

    it("rejects a wrong password with a clear authentication error", async () => {
      const sasl = new Kafka({
        ...baseConfig,
        brokers: infra.kafkaSasl.brokers,
        sasl: saslOptions("scram-sha-512", `${infra.kafkaSasl.password}-wrong`),
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const saslAdmin = sasl.admin();
      const error = await saslAdmin.connect().then(
        () => new Error("connected with a wrong password"),
        (err: unknown) => err as Error,
      );
      await saslAdmin.disconnect();
      expect(error.name).toBe("KafkaJSSASLAuthenticationError");
      expect(error.message).toMatch(/SASL SCRAM SHA512 authentication failed/);
    });
  });
});
