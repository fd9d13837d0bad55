import type { Kafka, Message, Producer } from "kafkajs";
import { Checkpoints } from "../eventlog/checkpoints";
import { Runner, type RunnerLogger, type RunnerStatus } from "../eventlog/runner";
import type { Commit, EventLog } from "../eventlog/types";
import type { Store } from "../store/types";
import { ensureTopics } from "./kafka";

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

/** Turns commits into the messages partners receive; must be deterministic so a replay repeats them. */
export type RelayMapper = (commits: readonly Commit[]) => Promise<OutboundMessage[]>;

export interface KafkaRelayOptions {
  name: string;
  kafka: Kafka;
  store: Store;
  log: EventLog;
  topics: string[];
  map: RelayMapper;
  owner: string;
  logger: RunnerLogger;
  ledger?: DeliveryLedger;
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
    await this.deliver(await this.options.map(commits));
  }

  /** Sends messages through this relay's producer, after their prerequisites, until the broker takes them. */
  async deliver(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.prerequisites(messages);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(messages);
        this.sendError = null;
        const delivered = [...new Set(messages.flatMap((m) => (m.delivers ? [m.delivers] : [])))];
        if (delivered.length) await this.options.ledger!.record(delivered);
        return;
      } catch (err) {
        if (this.stopping) throw err;
        this.sendError = `kafka: ${err instanceof Error ? err.message : String(err)}`;
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
    const { kafka, topics } = this.options;
    await ensureTopics(kafka, topics);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    producer.on(producer.events.DISCONNECT, () => (this.connected = false));
    await producer.connect();
    this.producer = producer;
    this.connected = true;
    return producer;
  }
}
