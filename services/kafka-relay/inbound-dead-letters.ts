import { randomUUID } from "node:crypto";
import type { IHeaders, Kafka, Producer } from "kafkajs";
import type { RunnerLogger } from "../../lib/eventlog/runner";
import { headerText, withoutDlqHeaders } from "../../lib/kafka/dead-letters";
import type { Store } from "../../lib/store/types";
import { BridgeError } from "./partner-bridge";

/** One message of the dead-letter topic, as the REPL lists it. */
export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  topic: string;
  originalPartition: number;
  originalOffset: string;
  reason: string;
  at: string;
  /** When it was last re-published to its topic, if it was. */
  redrivenAt: string | null;
}

interface StoredDeadLetter extends DeadLetter {
  value: Buffer | null;
  headers: IHeaders;
}

interface RedriveDoc {
  _id: string;
  at: number;
}

/** Where a re-driven message came from (kept if it fails again, so its history shows). */
const REDRIVEN_FROM = "redriven-from";
const READ_TIMEOUT_MS = 30_000;

export interface InboundDeadLettersOptions {
  partner: string;
  /** The consumer's name, for the log. */
  name: string;
  kafka: Kafka;
  store: Store;
  groupId: string;
  deadLetterTopic: string;
  /** The topics the partner's inbound consumes: the only ones a dead letter is re-driven to. */
  topics: ReadonlySet<string>;
  /** The consumer's producer (Java clients' partitioning: a re-driven message goes back to its key's partition). */
  producer(): Promise<Producer>;
  logger: RunnerLogger;
}

/**
 * A partner's inbound dead letters for operators: listed (with when each was re-driven, which the
 * store remembers) and re-published to the topic they came from once their cause is fixed.
 */
export class InboundDeadLetters {
  constructor(private readonly options: InboundDeadLettersOptions) {}

  private get redrives() {
    return this.options.store.collection<RedriveDoc>("inbound_redrives");
  }

  private redriveId(letter: Pick<DeadLetter, "partition" | "offset">): string {
    return `${this.options.partner}/${letter.partition}:${letter.offset}`;
  }

  /** Everything in the dead-letter topic now (oldest first), read with a throw-away consumer that commits nothing. */
  private async read(): Promise<StoredDeadLetter[]> {
    const { kafka, deadLetterTopic: topic } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      if (!(await admin.listTopics()).includes(topic)) return [];
      const offsets = await admin.fetchTopicOffsets(topic);
      ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
    if (ends.size === 0) return [];
    const letters: StoredDeadLetter[] = [];
    const consumer = kafka.consumer({ groupId: `${this.options.groupId}.dlq-reader.${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new BridgeError(`reading ${topic} took longer than ${READ_TIMEOUT_MS / 1000} s`, 503)),
          READ_TIMEOUT_MS,
        );
        const remaining = new Set(ends.keys());
        void consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = ends.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              const h = message.headers ?? {};
              letters.push({
                partition,
                offset: message.offset,
                key: message.key?.toString() ?? null,
                topic: headerText(h["dlq-topic"]),
                originalPartition: Number(headerText(h["dlq-partition"])),
                originalOffset: headerText(h["dlq-offset"]),
                reason: headerText(h["dlq-reason"]),
                at: headerText(h["dlq-at"]),
                redrivenAt: null,
                value: message.value,
                headers: h,
              });
              if (BigInt(message.offset) >= end - 1n) remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    for (const letter of letters) {
      const redriven = await this.redrives.get(this.redriveId(letter));
      letter.redrivenAt = redriven ? new Date(redriven.at).toISOString() : null;
    }
    return letters;
  }

  /** The dead letters (the newest `limit`), without their bytes. */
  async list(limit = 100): Promise<DeadLetter[]> {
    const letters = await this.read();
    return letters.slice(-limit).map(({ value: _v, headers: _h, ...letter }) => letter);
  }

  /**
   * Publishes dead letters again to the topic they came from, with their key, bytes and
   * headers, so the consumer applies them once their cause is fixed (one fails again into the
   * dead-letter topic, with its reason). Without an offset: every one not re-driven before.
   * `offset` is the dead letter's offset, or partition:offset.
   */
  async redrive(
    offset?: string,
  ): Promise<{ partner: string; redriven: Array<{ offset: string; topic: string; key: string | null }> }> {
    const { partner, deadLetterTopic } = this.options;
    const letters = await this.read();
    let chosen: StoredDeadLetter[];
    if (offset !== undefined) {
      const [partition, at] = offset.includes(":") ? offset.split(":") : ["0", offset];
      chosen = letters.filter((l) => String(l.partition) === partition && l.offset === at);
      if (chosen.length === 0)
        throw new BridgeError(`no dead letter at ${offset} in ${deadLetterTopic} of partner ${partner}`, 404);
    } else {
      chosen = letters.filter((l) => !l.redrivenAt);
    }
    const unknown = chosen.find((l) => !this.options.topics.has(l.topic));
    if (unknown)
      throw new BridgeError(
        `dead letter ${unknown.offset} came from ${unknown.topic || "no topic"}, which partner ${partner} does not consume`,
      );
    const producer = await this.options.producer();
    const redriven = [];
    for (const letter of chosen) {
      await producer.send({
        topic: letter.topic,
        acks: -1,
        messages: [
          {
            key: letter.key,
            value: letter.value,
            headers: {
              ...withoutDlqHeaders(letter.headers),
              [REDRIVEN_FROM]: `${deadLetterTopic}/${letter.partition}:${letter.offset}`,
            },
          },
        ],
      });
      await this.redrives.upsert({ _id: this.redriveId(letter), at: Date.now() });
      redriven.push({ offset: letter.offset, topic: letter.topic, key: letter.key });
      this.options.logger.info(`${this.options.name}: dead letter ${letter.offset} re-driven to ${letter.topic}`);
    }
    return { partner, redriven };
  }
}
