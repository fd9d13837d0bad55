/**
 * The notification nodes' side of the internal topic: a kafkajs consumer group that hands each
 * trigger to the planner (an injected `handle`), partitions concurrently, each partition in order.
 *
 * Why not @moleculer/channels (0.1.8, Kafka adapter over kafkajs), evaluated for this: its peer
 * dependency is moleculer ^0.14 (we run 0.15) and its README says it is not for production; its
 * Kafka adapter retries a failed message by re-publishing it to the end of the same topic
 * (breaking per-key order) with no delay, so an outage of what the handler needs would burn the
 * retries in milliseconds and dead-letter receipts; a failure to move a message to the dead-letter
 * topic is logged at info and the offset committed anyway (the message is lost); and it commits
 * one offset per message. We already run kafkajs consumers with dead letters (the partner
 * bridge's inbound streams); this one follows them.
 *
 * Guarantees: an offset is committed (kafkajs, after each batch and every second) only once the
 * handler finished for every message before it, so a crash or a rebalance hands the rest to the
 * next owner: nothing is lost, and a repeat is harmless (the planner is idempotent by event id).
 * A message that is not a trigger goes to the dead-letter topic with its reason and origin, then
 * is committed: it never blocks its partition. A handler failure (the users service or the store
 * unreachable) is retried in place with backoff and jitter, heartbeating, never skipped; while
 * it lasts, kafkajs fetches no more for the other partitions of that broker either (one fetch
 * per broker waits for all its batches), which is right for the failures we retry: they are
 * shared by every trigger.
 */
import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachMessagePayload, Kafka } from "kafkajs";
import type { Runtime } from "../../lib/app/runtime";
import type { RunnerLogger } from "../../lib/eventlog/runner";
import { GroupMember, type DeadLetterRecord, type MemberState } from "../../lib/kafka/group-member";
import { createKafka, kafkajs, type KafkaLogger } from "../../lib/kafka/kafka";
import { MalformedTrigger, parseTrigger, type NotificationTrigger } from "./triggers";

export type TriggerHandler = (trigger: NotificationTrigger) => Promise<unknown>;

export interface FeedConsumerOptions {
  kafka: Kafka;
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  /** Partitions of the topic when we create it; also how many are consumed at once. */
  partitions: number;
  /** A member silent this long leaves the group and its partitions move. */
  sessionTimeoutMs: number;
  handle: TriggerHandler;
  owner: string;
  logger: RunnerLogger;
  /** The first retry of a failed trigger waits about this long, doubled per attempt up to `maxRetryDelayMs`. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
}

/** The feed has one topic: its dead letters do not name it. */
export type FeedDeadLetter = Omit<DeadLetterRecord, "topic">;

export interface FeedConsumerStatus {
  name: string;
  groupId: string;
  topic: string;
  deadLetterTopic: string;
  state: MemberState;
  /** Partitions this node consumes now. */
  partitions: number[];
  /** Messages not consumed yet on those partitions, as of each one's last batch. */
  lag: number;
  counts: { handled: number; retried: number; deadLettered: number };
  lastError: string | null;
  lastDeadLetter: FeedDeadLetter | null;
}

/**
 * Thrown out of kafkajs' message handler when stopping: a KafkaJSError, so kafkajs does not log it
 * as our bug. Its class is made at first use, as kafkajs is loaded only once the feed is configured.
 */
let StoppingError: (new () => Error) | undefined;
function stoppingError(): Error {
  StoppingError ??= class Stopping extends kafkajs().KafkaJSError {
    constructor() {
      super("the notification feed consumer is stopping", { retriable: false });
    }
  };
  return new StoppingError();
}

/** An error's class, type and message, with anything looking like an address or a phone number masked. */
export function safeReason(err: unknown): string {
  const e = err as { name?: unknown; type?: unknown; message?: unknown };
  const name = typeof e?.name === "string" && e.name !== "Error" ? `${e.name}: ` : "";
  const type = typeof e?.type === "string" ? ` [${e.type}]` : "";
  const message = (typeof e?.message === "string" ? e.message : String(err))
    .replace(/[^\s@<>"']+@[^\s@<>"']+/g, "<address>")
    .replace(/\+?\d[\d ()-]{7,}\d/g, "<number>");
  return `${name}${message.slice(0, 300)}${type}`;
}

export class FeedConsumer extends GroupMember {
  protected readonly counts = { handled: 0, retried: 0, deadLettered: 0 };
  private readonly lags = new Map<number, number>();
  private assigned: number[] = [];

  constructor(private readonly options: FeedConsumerOptions) {
    super({
      kafka: options.kafka,
      groupId: options.groupId,
      topics: [options.topic],
      partitions: options.partitions,
      deadLetterTopic: options.deadLetterTopic,
      owner: options.owner,
      logger: options.logger,
      maxConnectDelayMs: 15_000,
    });
  }

  get name(): string {
    return "notifications.feed.consumer";
  }

  /** Messages not consumed yet on this node's partitions, as of each one's last batch. */
  protected override get lag(): number {
    return [...this.lags.values()].reduce((sum, n) => sum + n, 0);
  }

  protected get done(): number {
    return this.counts.handled + this.counts.deadLettered;
  }

  private get heartbeatMs(): number {
    return Math.max(500, Math.floor(this.options.sessionTimeoutMs / 5));
  }

  status(): FeedConsumerStatus {
    const { topic, deadLetterTopic, groupId } = this.options;
    const letter = this.lastDeadLetter;
    return {
      name: this.name,
      groupId,
      topic,
      deadLetterTopic,
      state: this.state,
      partitions: [...this.assigned],
      lag: this.lag,
      counts: { ...this.counts },
      lastError: this.lastError,
      lastDeadLetter: letter && { reason: letter.reason, partition: letter.partition, offset: letter.offset, at: letter.at },
    };
  }

  protected override consumerTuning(): Partial<ConsumerConfig> {
    return { sessionTimeout: this.options.sessionTimeoutMs, heartbeatInterval: this.heartbeatMs };
  }

  protected override watch(consumer: Consumer): void {
    const { topic } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = (payload.memberAssignment[topic] ?? []).slice().sort((a, b) => a - b);
      this.lags.clear();
      if (this.state === "failed") this.state = "running";
      this.lastError = this.state === "retrying" ? this.lastError : null;
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => this.lags.set(payload.partition, Number(payload.offsetLag)));
  }

  protected runConfig(): ConsumerRunConfig {
    return {
      partitionsConsumedConcurrently: this.options.partitions,
      autoCommitInterval: 1000,
      eachMessage: (payload) => this.onMessage(payload),
    };
  }

  protected override released(): void {
    this.assigned = [];
  }

  protected stoppedError(): Error {
    return stoppingError();
  }

  protected deadLetterPause(attempt: number, heartbeat: () => Promise<void>): Promise<void> {
    return this.wait(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)), heartbeat);
  }

  /** Returns once the message is handled or dead-lettered; throws (leaving it uncommitted) only when stopping or on a rebalance. */
  private async onMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    let trigger: NotificationTrigger;
    try {
      trigger = parseTrigger(message.value);
    } catch (err) {
      if (!(err instanceof MalformedTrigger)) throw err;
      await this.deadLetter(topic, partition, message, err.message, heartbeat);
      return;
    }
    const where = `${topic}/${partition}@${message.offset} (event ${trigger.eventId})`;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw stoppingError();
      try {
        await this.options.handle(trigger);
        this.counts.handled++;
        if (this.recovered()) this.options.logger.info(`${this.name}: ${where} handled after ${attempt} attempts`);
        return;
      } catch (err) {
        if (this.stopping) throw stoppingError();
        this.counts.retried++;
        this.retrying(`${where}: ${safeReason(err)}`);
        if (attempt === 1) this.options.logger.warn(`${this.name}: ${this.lastError}; retrying`);
        await this.wait(this.backoff(attempt), heartbeat);
      }
    }
  }

  /** Exponential, with jitter so the nodes of a group do not retry in step. */
  private backoff(attempt: number): number {
    const base = this.options.retryBaseMs ?? 500;
    const max = this.options.maxRetryDelayMs ?? 30_000;
    const delay = Math.min(max, base * 2 ** Math.min(attempt - 1, 16));
    return Math.round(delay / 2 + (Math.random() * delay) / 2);
  }

  /**
   * Waits, heartbeating so the group keeps this member; a rebalance makes `heartbeat` throw, which
   * gives the message (uncommitted) back to the group. Stopping or `resume` ends the wait early.
   */
  private async wait(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping) {
      const left = until - Date.now();
      if (left <= 0) return;
      if (await this.sleep(Math.min(left, this.heartbeatMs))) return;
      await heartbeat();
    }
  }
}

/**
 * Starts consuming the internal topic when our own Kafka is configured (KAFKA_BROKERS), registered
 * with this node's runners; null otherwise (the notification service then follows the logs).
 * Connecting happens in the background: a broker that is down does not stop the node.
 */
export function startFeedConsumer(rt: Runtime, handle: TriggerHandler, logger: RunnerLogger): FeedConsumer | null {
  const connection = rt.config.kafka?.connection;
  if (!connection) return null;
  const n = rt.config.notifications;
  const consumer = new FeedConsumer({
    kafka: createKafka(connection, logger as KafkaLogger),
    topic: n.topic,
    deadLetterTopic: n.deadLetterTopic,
    groupId: n.consumerGroup,
    partitions: n.partitions,
    sessionTimeoutMs: n.sessionTimeoutMs,
    handle,
    owner: rt.instanceId,
    logger,
    retryBaseMs: Math.min(n.retryBaseMs, 5_000),
    maxRetryDelayMs: Math.min(n.retryMaxMs, 30_000),
  });
  rt.runners.add(consumer.runnerEntry());
  consumer.start();
  return consumer;
}

export async function stopFeedConsumer(rt: Runtime, consumer: FeedConsumer): Promise<void> {
  rt.runners.remove(consumer.name);
  await consumer.stop();
}
