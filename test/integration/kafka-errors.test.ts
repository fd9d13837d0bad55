/**
 * kafkajs keeps the broker's reason in places our log used to drop: the `error` field of its
 * own log entries ("Response Metadata…" + error "This server does not host this
 * topic-partition") and the `cause` of the error it throws (a KafkaJSProtocolError with its
 * type). Against the real broker: a send to a topic that does not exist (auto-creation is off).
 */
import { randomUUID } from "node:crypto";
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from "kafkajs";
import { kafkaErrorText, kafkaLogLine } from "../../lib/kafka/errors";
import { createKafka } from "../../lib/kafka/kafka";
import { loadInfra } from "../support/infra";

describe("kafkajs errors reach our log with their reason", () => {
  const infra = loadInfra(["kafka"]);

  test("a refused send: kafkajs' log lines carry the broker's error, the thrown error its chain and type", async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => lines.push(args.map(String).join(" "));
    const kafka = createKafka(
      { brokers: infra.kafkaBrokers, clientId: "errors-test", ssl: false },
      { info: capture, warn: capture, error: capture, debug: () => undefined },
    );
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    let thrown: unknown;
    try {
      await producer.send({ topic: `missing.${randomUUID()}`, messages: [{ value: "x" }] });
    } catch (err) {
      thrown = err;
    } finally {
      await producer.disconnect();
    }
    expect(thrown).toBeDefined();
    expect(kafkaErrorText(thrown)).toMatch(
      /^KafkaJSNumberOfRetriesExceeded: This server does not host this topic-partition ← KafkaJSProtocolError: This server does not host this topic-partition \[UNKNOWN_TOPIC_OR_PARTITION\]$/,
    );
    expect(lines.join("\n")).toMatch(
      /kafka Connection: Response Metadata\(key: 3, version: \d+\): This server does not host this topic-partition \(broker=127\.0\.0\.1:\d+\)/,
    );
  }, 60_000);

  test("the chain as kafkajs builds it for a coordinator that is loading", () => {
    const loading = new KafkaJSProtocolError({
      message: "The coordinator is loading and hence can't process requests",
      type: "COORDINATOR_LOAD_IN_PROGRESS",
      code: 14,
      retriable: true,
    } as unknown as Error);
    const exceeded = new KafkaJSNumberOfRetriesExceeded(loading, { retryCount: 5, retryTime: 3000 });
    expect(kafkaErrorText(exceeded)).toBe(
      "KafkaJSNumberOfRetriesExceeded: The coordinator is loading and hence can't process requests ← " +
        "KafkaJSProtocolError: The coordinator is loading and hence can't process requests [COORDINATOR_LOAD_IN_PROGRESS]",
    );
    // kafkajs' consumer logs the crash with the reason in `error` and the retry state beside it.
    expect(
      kafkaLogLine({
        namespace: "Consumer",
        log: {
          timestamp: "",
          logger: "kafkajs",
          message: "Crash: KafkaJSNumberOfRetriesExceeded",
          error: "The coordinator is loading and hence can't process requests",
          groupId: "g1",
          retryCount: 5,
          stack: "KafkaJSNumberOfRetriesExceeded\n  at ...",
        } as never,
      }),
    ).toBe(
      "kafka Consumer: Crash: KafkaJSNumberOfRetriesExceeded: The coordinator is loading and hence can't process requests (groupId=g1, retryCount=5)",
    );
  });
});
