/**
 * Issue 10 §2 (the pipeline): the ticket service's trigger events reach the notification nodes
 * through the internal Kafka topic, on the real broker. The publisher is the ticket service's
 * NotificationFeed over a store's logs; the consumers are FeedConsumers whose handler records
 * what it was handed (the planner's place).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import type { FeedConsumer } from "../../services/notifications/feed-consumer";
import { triggerOf } from "../../services/notifications/triggers";
import type { NotificationFeed } from "../../services/tickets/notification-feed";
import {
  appendTriggers,
  backwards,
  expectedTriggers,
  feedConsumer,
  feedNames,
  kafkaClient,
  readDeadLetters,
  recorder,
  startFeed,
  type Handled,
} from "../support/feed-harness";
import { loadInfra } from "../support/infra";
import { writeCompletedOrder } from "../support/sales-writer";
import { waitFor } from "../support/wait";

const ROOT = join(__dirname, "..", "..");
const brokers = loadInfra(["kafka"]).kafkaBrokers;

describe("notification feed over Kafka", () => {
  let store: EmbeddedStore;
  let feed: NotificationFeed | undefined;
  const consumers: FeedConsumer[] = [];
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    store = await EmbeddedStore.open({ logs: ["sales", "catalogue"] });
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await feed?.stop();
    feed = undefined;
    await store.close();
  }, 60_000);

  const logs = () => ({ sales: store.log("sales"), catalogue: store.log("catalogue") });

  /** Waits until every trigger of the logs was handled; answers what is missing otherwise. */
  async function allHandled(handled: Handled[], timeoutMs = 90_000): Promise<Map<string, { stream: string; pos: number }>> {
    const expected = await expectedTriggers(logs());
    await waitFor(
      "every trigger handled",
      async () => [...expected.keys()].filter((id) => !handled.some((h) => h.eventId === id)),
      (missing) => missing.length === 0,
      { timeoutMs, show: (missing) => `${missing.length} of ${expected.size} missing` },
    );
    return expected;
  }

  test("every trigger of the sales arrives, each order's in order; a failing handler is retried, never skipped", async () => {
    const names = feedNames("feed.order");
    feed = startFeed(store, brokers, names);
    await feed.start();
    const handled: Handled[] = [];
    const failures = new Map<string, number>();
    // Every fifth trigger fails twice first (the users service unreachable, say).
    const consumer = feedConsumer(
      brokers,
      names,
      recorder("a", handled, async (t) => {
        const n = failures.get(t.eventId) ?? 0;
        if (t.pos % 5 === 0 && n < 2) {
          failures.set(t.eventId, n + 1);
          throw new Error(`users service unreachable (try ${n + 1})`);
        }
      }),
    );
    consumers.push(consumer);
    consumer.start();

    for (let n = 0; n < 60; n++) {
      await writeCompletedOrder(store.log("sales"), n);
      feed.wake("sales");
    }
    const streams = Array.from({ length: 12 }, (_, i) => `order-keyed-${i}`);
    await appendTriggers(store.log("sales"), streams, 6);
    feed.wake("sales");

    const expected = await allHandled(handled);
    expect(expected.size).toBe(60 + 12 * 6);
    expect(backwards(handled)).toEqual([]);
    // Each retried trigger was handled once it succeeded, after its failures, and nothing was skipped.
    expect([...failures.values()].filter((n) => n === 2).length).toBeGreaterThan(10);
    expect(consumer.status().counts.retried).toBeGreaterThanOrEqual(2 * [...failures.values()].length);
    // Per key, the retried trigger held back the ones after it: the keyed streams' order is the log's.
    for (const stream of streams) {
      const positions = handled.filter((h) => h.stream === stream).map((h) => h.pos);
      expect([...new Set(positions)]).toEqual([...new Set(positions)].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(6);
    }
    // Keys spread over the partitions: several notification nodes would share them.
    const admin = kafkaClient(brokers, "feed-test-admin").admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(names.topic).finally(() => admin.disconnect());
    expect(offsets.length).toBe(6);
    expect(offsets.filter((o) => Number(o.high) > 0).length).toBeGreaterThanOrEqual(4);
  }, 180_000);

  test("a message that is not a trigger goes to the dead-letter topic with its reason; the next one is handled", async () => {
    const names = feedNames("feed.dlq");
    const handled: Handled[] = [];
    const consumer = feedConsumer(brokers, names, recorder("a", handled));
    consumers.push(consumer);
    consumer.start();
    await waitFor(
      "the consumer joined",
      async () => consumer.status().partitions.length,
      (n) => n === 6,
      { timeoutMs: 60_000 },
    );

    const good = triggerOf("sales", {
      id: "evt-good",
      type: "TicketsIssued",
      data: { id: "o1" },
      stream: "order-o1",
      version: 3,
      index: 0,
      pos: 17,
      at: Date.now(),
      meta: {},
    });
    const bad: Array<[string, string]> = [
      ["not json {", "not JSON"],
      [JSON.stringify({ ...good, type: "OrderPlaced" }), 'type "OrderPlaced" is not a trigger of sales'],
      [JSON.stringify({ ...good, eventId: undefined }), "eventId must be a non-empty string"],
    ];
    const producer = kafkaClient(brokers, "feed-test-producer").producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      // One key: the bad ones sit in front of the good one on its partition.
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: [
          ...bad.map(([value], i) => ({ key: "order-o1", value, headers: { "event-id": `bad-${i}` } })),
          { key: "order-o1", value: JSON.stringify(good) },
        ],
      });
    } finally {
      await producer.disconnect();
    }

    await waitFor(
      "the good trigger handled",
      async () => handled.length,
      (n) => n === 1,
      { timeoutMs: 60_000 },
    );
    expect(handled[0]).toMatchObject({ eventId: "evt-good", stream: "order-o1" });
    const letters = await readDeadLetters(brokers, names.deadLetterTopic, 3);
    expect(letters.map((l) => [l.value, l.headers["dlq-reason"]])).toEqual(bad);
    for (const [i, letter] of letters.entries()) {
      expect(letter.key).toBe("order-o1");
      expect(letter.headers).toMatchObject({ "dlq-topic": names.topic, "event-id": `bad-${i}` });
      expect(letter.headers["dlq-offset"]).toMatch(/^\d+$/);
      expect(Number(letter.headers["dlq-partition"])).toBeGreaterThanOrEqual(0);
    }
    // Consecutive offsets of one partition: the bad ones, in the order they came.
    const offsets = letters.map((l) => Number(l.headers["dlq-offset"]));
    expect(offsets).toEqual([offsets[0], offsets[0] + 1, offsets[0] + 2]);
    expect(consumer.status()).toMatchObject({ counts: { handled: 1, deadLettered: 3 }, lastError: null });
  }, 120_000);

  test("a consumer stopped while its handler keeps failing leaves the trigger uncommitted: the next one gets it", async () => {
    const names = feedNames("feed.stop");
    feed = startFeed(store, brokers, names);
    await feed.start();
    await appendTriggers(store.log("sales"), ["order-stuck"], 1);
    feed.wake("sales");
    let attempts = 0;
    const failing = feedConsumer(brokers, names, async () => {
      attempts++;
      throw new Error("users service unreachable");
    });
    consumers.push(failing);
    failing.start();
    await waitFor(
      "retries",
      async () => failing.status(),
      (s) => s.counts.retried >= 3,
      { timeoutMs: 60_000 },
    );
    expect(failing.status()).toMatchObject({ state: "retrying", counts: { handled: 0 } });
    expect(failing.status().lastError).toMatch(/order-stuck|users service unreachable/);
    await failing.stop();
    expect(failing.status().state).toBe("stopped");

    const handled: Handled[] = [];
    const next = feedConsumer(brokers, names, recorder("next", handled));
    consumers.push(next);
    next.start();
    await allHandled(handled);
    expect(handled.map((h) => h.stream)).toEqual(["order-stuck"]);
    expect(attempts).toBeGreaterThanOrEqual(3);
  }, 120_000);

  test("two consumers share the partitions; when one is SIGKILLed the other takes its partitions and nothing is lost", async () => {
    const names = feedNames("feed.group");
    feed = startFeed(store, brokers, names);
    await feed.start();
    const sessionMs = 8_000;
    const handled: Handled[] = [];
    const a = feedConsumer(brokers, names, recorder("a", handled), { sessionTimeoutMs: sessionMs });
    consumers.push(a);
    a.start();
    await waitFor(
      "a holds the partitions",
      async () => a.status().partitions.length,
      (n) => n === 6,
      { timeoutMs: 60_000 },
    );

    const child = spawn(join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", "test/support/feed-consumer-process.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        FEED_BROKERS: brokers.join(","),
        FEED_TOPIC: names.topic,
        FEED_DLQ: names.deadLetterTopic,
        FEED_GROUP: names.groupId,
        FEED_SESSION_MS: String(sessionMs),
        FEED_HANDLE_MS: "30",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let bPartitions: number[] = [];
    let buffered = "";
    const output: string[] = [];
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("handled ")) handled.push({ ...JSON.parse(line.slice(8)), by: "b" });
        else if (line.startsWith("partitions ")) bPartitions = JSON.parse(line.slice(11));
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const both = await waitFor(
      "the group split between a and b",
      async () => ({ a: a.status().partitions, b: bPartitions }),
      (s) => s.a.length > 0 && s.b.length > 0 && s.a.length + s.b.length === 6,
      { timeoutMs: 90_000, show: (s) => ({ ...s, stderr: output.join("").slice(-1000) }) },
    );
    expect(new Set([...both.a, ...both.b]).size).toBe(6);

    // Sales go on while b is killed mid-stream.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let n = 0; writing || n < 150; n++) {
        await writeCompletedOrder(store.log("sales"), n);
        written++;
        feed!.wake("sales");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(
      "b handled some",
      async () => handled.filter((h) => h.by === "b").length,
      (n) => n >= 20,
      {
        timeoutMs: 90_000,
      },
    );
    child.kill("SIGKILL");
    const killedAt = Date.now();
    const byB = handled.filter((h) => h.by === "b").length;
    await waitFor(
      "a took b's partitions",
      async () => a.status().partitions.length,
      (n) => n === 6,
      { timeoutMs: 90_000 },
    );
    const movedAfterMs = Date.now() - killedAt;
    writing = false;
    await writer;

    const expected = await allHandled(handled);
    expect(expected.size).toBe(written);
    expect(backwards(handled)).toEqual([]);
    const repeats = handled.length - new Set(handled.map((h) => h.eventId)).size;
    console.log(
      `feed group: ${expected.size} triggers, b handled ${byB} before SIGKILL, its partitions moved to a after ` +
        `${(movedAfterMs / 1000).toFixed(1)} s (session ${sessionMs / 1000} s); ${repeats} handed twice (b's uncommitted ones)`,
    );
  }, 240_000);
});
