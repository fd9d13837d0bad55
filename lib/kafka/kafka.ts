import type { Kafka, KafkaConfig as KafkaJsConfig, SASLOptions } from "kafkajs";
import type { KafkaConnection } from "../config/partners";
import { kafkaLogLine } from "./errors";

/** kafkajs, loaded when Kafka is configured (a bridge, the notification feed), not at every start. */
export const kafkajs = () => require("kafkajs") as typeof import("kafkajs");

export interface KafkaLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

/** A kafkajs client from our configuration: brokers, TLS with a custom CA, SASL. */
export function createKafka(config: KafkaConnection, logger?: KafkaLogger): Kafka {
  const { Kafka, logLevel } = kafkajs();
  const options: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl ? (config.ca ? { ca: [config.ca] } : true) : false,
    sasl: config.sasl ? (config.sasl as SASLOptions) : undefined,
    connectionTimeout: 5000,
    retry: { retries: 5, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    // Route kafkajs' own messages through our logger (never the SASL password: kafkajs does not log it).
    logCreator: () => (entry) => {
      if (!logger) return;
      const text = kafkaLogLine(entry);
      if (entry.level === logLevel.ERROR) logger.error(text);
      else if (entry.level === logLevel.WARN) logger.warn(text);
      else logger.debug(text);
    },
  };
  return new Kafka(options);
}

/** Creates missing topics. Auto-creation is off on our brokers (and answers the first send with an error under KRaft). */
export async function ensureTopics(kafka: Kafka, topics: string[], partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: partitions })) });
    }
  } finally {
    await admin.disconnect();
  }
}
