import type { ICustomPartitioner, Kafka, Message, Producer } from "kafkajs";
import { Checkpoints } from "../eventlog/checkpoints";
import { contiguousRun, Runner, type RunnerLogger, type RunnerStatus } from "../eventlog/runner";
import type { Commit, EventLog } from "../eventlog/types";
import type { Store } from "../store/types";
import { ensureTopics, kafkajs } from "./kafka";
import { kafkaErrorText } from "./errors";

export interface OutboundMessage {
  topic: string;
  key: string;
  value: Buffer | string;
  headers: Record<string, string>;
  /** Something another relay must have delivered before this message may go (an event before its orders). */
  after?: string;
  /** What this message delivers, for the messages that wait on it. */
  delivers?: string;
}

/** Remembers what reached the broker, so messages of another log can wait for it. */
export interface DeliveryLedger {
  /** The ids not delivered yet. */
  missing(ids: string[]): Promise<string[]>;
  record(ids: string[]): Promise<void>;
}

/**
 * Turns commits into the messages partners receive; must be deterministic so a replay repeats
 * them, and commit by commit (the messages of a batch are those of its commits, in order), so
 * the relay may map the next commits while the broker is busy with the ones before.
 */
export type RelayMapper = (commits: readonly Commit[]) => Promise<OutboundMessage[]>;

/** What became of each send, per topic, for the bridge's metrics. */
export interface RelayObserver {
  /** The broker acknowledged `count` records of `topic`. */
  sent(topic: string, count: number): void;
  /** The broker refused a send with records of `topic` (it is tried again). */
  failed(topic: string): void;
  /** A send with records of `topic` goes again after a refusal. */
  retried(topic: string): void;
}

export interface KafkaRelayOptions {
  name: string;
  kafka: Kafka;
  store: Store;
  log: EventLog;
  topics: string[];
  /** Partitions of the topics this relay creates when they are missing (default 3). */
  partitions?: number;
  map: RelayMapper;
  owner: string;
  logger: RunnerLogger;
  ledger?: DeliveryLedger;
  /** Called after the broker acknowledged a batch's messages, before the checkpoint moves (benchmarks, tests). */
  onDelivered?(commits: readonly Commit[], messages: readonly OutboundMessage[]): void;
  observer?: RelayObserver;
  tuning?: { pollMs?: number; leaseMs?: number; batchSize?: number; retryDelayMs?: number; attempts?: number };
}

/**
 * Publishes the log to Kafka with at-least-once delivery and per-key order: one runner reads
 * commits in position order, an idempotent producer with one request in flight keeps the
 * broker's order equal to ours, and the checkpoint only moves after the broker acknowledged
 * every message before it. A crash may repeat the last batch (headers let partners drop the
 * repeats); it never loses or reorders one.
 */
export class KafkaRelay {
  private producer: Producer | null = null;
  private readonly runner: Runner;
  private connected = false;
  private stopping = false;
  /** The broker error or the prerequisite we are waiting out, shown in the status while it lasts. */
  private sendError: string | null = null;
  /** The commits after the batch in flight, mapped while the broker was busy with it. */
  private ahead: { from: number; result: Promise<{ to: number; messages: OutboundMessage[] } | null> } | null = null;

  constructor(private readonly options: KafkaRelayOptions) {
    this.runner = new Runner({
      ...options.tuning,
      name: options.name,
      log: options.log,
      checkpoints: new Checkpoints(options.store),
      owner: options.owner,
      logger: options.logger,
      handle: (commits) => this.publish(commits),
    });
  }

  async start(): Promise<void> {
    this.runner.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.runner.stop();
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
    this.connected = false;
  }

  get name(): string {
    return this.options.name;
  }

  wake(): void {
    this.runner.wake();
  }

  /** Resolves true once everything up to `pos` was acknowledged by the broker. */
  waitFor(pos: number, timeoutMs: number): Promise<boolean> {
    return this.runner.waitFor(pos, timeoutMs);
  }

  resume(): void {
    this.runner.resume();
  }

  async status(): Promise<RunnerStatus> {
    const status = await this.runner.status();
    return this.sendError ? { ...status, lastError: this.sendError } : status;
  }

  /**
   * A commit that cannot be mapped is poison: it fails through to the runner, which halts on
   * it. A broker that cannot be reached is weather: wait it out, without moving on.
   */
  private async publish(commits: readonly Commit[]): Promise<void> {
    const messages = await this.mapped(commits);
    const delivered = this.deliver(messages);
    this.mapAhead(commits[commits.length - 1].pos);
    await delivered;
    this.options.onDelivered?.(commits, messages);
  }

  /** The batch's messages: those mapped ahead for its first commits, and the rest mapped now. */
  private async mapped(commits: readonly Commit[]): Promise<OutboundMessage[]> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead && commits[0].pos === ahead.from) {
      const early = await ahead.result;
      if (early && early.to <= commits[commits.length - 1].pos) {
        const rest = commits.filter((c) => c.pos > early.to);
        return rest.length ? early.messages.concat(await this.options.map(rest)) : early.messages;
      }
    }
    return this.options.map(commits);
  }

  /**
   * Maps the commits after `pos` while the broker acknowledges the batch before them (node would
   * be idle meanwhile). Only a head start: the log never changes a position it showed, the mapping
   * is deterministic, and whatever fails here is mapped again (and fails) in its turn.
   */
  private mapAhead(pos: number): void {
    const batchSize = this.options.tuning?.batchSize ?? 500; // the runner's default
    // After the batch before has gone out: the send is written to the socket in the microtasks that follow.
    const result = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.options.log.readFrom(pos, batchSize))
      .then(async (commits) => {
        const run = contiguousRun(commits, pos);
        return run.length ? { to: run[run.length - 1].pos, messages: await this.options.map(run) } : null;
      })
      .catch(() => null);
    this.ahead = { from: pos + 1, result };
  }

  /** Sends messages through this relay's producer, after their prerequisites, until the broker takes them. */
  async deliver(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.prerequisites(messages);
    const counts = new Map<string, number>();
    for (const m of messages) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
    const observe = (each: (topic: string, count: number) => void) => {
      if (this.options.observer) for (const [topic, count] of counts) each(topic, count);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt > 1) observe((topic) => this.options.observer!.retried(topic));
        await this.send(messages);
        observe((topic, count) => this.options.observer!.sent(topic, count));
        this.sendError = null;
        const delivered = [...new Set(messages.flatMap((m) => (m.delivers ? [m.delivers] : [])))];
        if (delivered.length) await this.options.ledger!.record(delivered);
        return;
      } catch (err) {
        observe((topic) => this.options.observer!.failed(topic));
        if (this.stopping) throw err;
        this.sendError = `kafka: ${kafkaErrorText(err)}`;
        if (attempt === 1) this.options.logger.warn(`${this.options.name}: broker refused a batch (${this.sendError}); retrying`);
        this.connected = false;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)));
      }
    }
  }

  /** Waits (without moving on) until everything these messages must follow has been delivered. */
  private async prerequisites(messages: OutboundMessage[]): Promise<void> {
    const ledger = this.options.ledger;
    const needed = [...new Set(messages.flatMap((m) => (m.after ? [m.after] : [])))];
    if (!ledger || needed.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      const missing = await ledger.missing(needed);
      if (missing.length === 0) break;
      if (this.stopping) throw new Error("stopping");
      this.sendError = `waiting for ${missing.join(", ")} to be delivered first`;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * attempt)));
    }
    this.sendError = null;
  }

  private async send(messages: OutboundMessage[]): Promise<void> {
    const producer = await this.ensureProducer();
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push({ key: m.key, value: m.value, headers: m.headers });
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
  }

  private async ensureProducer(): Promise<Producer> {
    if (this.producer && this.connected) return this.producer;
    await this.producer?.disconnect().catch(() => undefined);
    const { kafka, topics, partitions } = this.options;
    await ensureTopics(kafka, topics, partitions);
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: JavaCompatiblePartitioner,
    });
    producer.on(producer.events.DISCONNECT, () => (this.connected = false));
    await producer.connect();
    this.producer = producer;
    this.connected = true;
    return producer;
  }
}

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) in 32-bit integer arithmetic.
 * kafkajs' own copy computes the same value through 64-bit BigInt objects, which made hashing
 * the keys a seventh of the relay's time.
 */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  const length4 = length & ~3;
  let h = (0x9747b28c ^ length) | 0;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[length4 + 2] << 16;
  if (rest >= 2) h ^= data[length4 + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[length4], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/**
 * The partition of a keyed message exactly as Java clients and kafkajs' DefaultPartitioner choose
 * it (positive murmur2 of the key modulo the partition count), so a key stays on its partition
 * whichever client wrote it before; messages without a key go to kafkajs' default.
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const fallback = kafkajs().Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key === undefined || message.key === null) return fallback(args);
    const key = typeof message.key === "string" ? Buffer.from(message.key) : message.key;
    return (murmur2(key) & 0x7fffffff) % partitionMetadata.length;
  };
};
