/**
 * What our consumer-group members (the partner bridge's inbound streams, the notification feed)
 * share: connecting in the background until the broker answers, reporting themselves the way
 * runners do, and handing a message to a dead-letter topic until the broker takes it. GroupMember
 * puts these together; each member adds only what its messages mean.
 */
import type {
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachMessagePayload,
  ICustomPartitioner,
  Kafka,
  KafkaMessage,
  Producer,
} from "kafkajs";
import type { RunnerEntry } from "../app/runner-registry";
import type { RunnerLogger, RunnerStatus } from "../eventlog/runner";
import { deadLetterHeaders } from "./dead-letters";
import { kafkaErrorText } from "./errors";
import { ensureTopics } from "./kafka";

export type MemberState = "starting" | "running" | "retrying" | "failed" | "stopped";

/** As the runners report themselves, so /api/ready and the REPL show a consumer that cannot work. */
export function memberRunnerStatus(m: {
  name: string;
  owner: string;
  state: MemberState;
  /** Messages done with (applied, skipped, dead-lettered...). */
  done: number;
  lag: number;
  lastError: string | null;
}): RunnerStatus {
  const failed = m.state === "failed";
  return {
    name: m.name,
    state: m.state === "failed" ? "halted" : m.state === "retrying" ? "running" : m.state,
    pos: m.done,
    head: m.done + m.lag,
    lag: m.lag,
    owner: m.owner,
    fault: failed ? { pos: m.done, message: m.lastError ?? "consumer failed", at: Date.now() } : null,
    lastError: failed ? null : m.lastError,
  };
}

/**
 * Calls `connect` until it succeeds or the member stops, backing off up to `maxDelayMs` (no group
 * session to keep alive meanwhile); each failure is reported, the first one logged.
 */
export async function connectUntilUp(o: {
  name: string;
  logger: RunnerLogger;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  stopping(): boolean;
  failed(text: string): void;
  sleep(ms: number): Promise<unknown>;
  maxDelayMs: number;
}): Promise<void> {
  for (let attempt = 1; !o.stopping(); attempt++) {
    try {
      await o.connect();
      return;
    } catch (err) {
      if (o.stopping()) return;
      const text = `kafka: ${kafkaErrorText(err)}`;
      o.failed(text);
      if (attempt === 1) o.logger.warn(`${o.name}: cannot consume (${text}); retrying`);
      await o.disconnect();
      await o.sleep(Math.min(o.maxDelayMs, 500 * 2 ** Math.min(attempt, 6)));
    }
  }
}

/**
 * Publishes a dead letter (the original key and bytes, with `headers`) and retries until the
 * broker acknowledges it: its offset must not be committed before. Throws only when stopping.
 */
export async function publishDeadLetter(o: {
  topic: string;
  message: Pick<KafkaMessage, "key" | "value">;
  headers: NonNullable<KafkaMessage["headers"]>;
  producer(): Promise<Producer>;
  /** The send failed: forget the producer (a new one is made next time). */
  dropProducer(): Promise<void>;
  stopping(): boolean;
  stoppedError(): Error;
  failed(text: string, attempt: number): void;
  /** Waits before the next attempt (heartbeating, when a partition is in hand). */
  pause(attempt: number): Promise<void>;
}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (o.stopping()) throw o.stoppedError();
    try {
      const producer = await o.producer();
      await producer.send({
        topic: o.topic,
        acks: -1,
        messages: [{ key: o.message.key, value: o.message.value, headers: o.headers }],
      });
      return;
    } catch (err) {
      o.failed(`dead-letter topic ${o.topic}: ${kafkaErrorText(err)}`, attempt);
      await o.dropProducer();
      await o.pause(attempt);
    }
  }
}

/**
 * kafkajs restarts a crashed consumer itself, unless it gave up: then `restart` (a new consumer)
 * is called, once the member has said why. A consumer replaced meanwhile is ignored.
 */
export function restartWhenAbandoned(
  consumer: Consumer,
  o: {
    name: string;
    logger: RunnerLogger;
    stopping(): boolean;
    current(): boolean;
    failed(text: string, abandoned: boolean): void;
    restart(): void;
  },
): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const text = `kafka: ${kafkaErrorText(payload.error)}`;
    const abandoned = !payload.restart && !o.stopping() && o.current();
    o.failed(text, abandoned);
    if (!abandoned) return;
    o.logger.warn(`${o.name}: consumer stopped (${text}); reconnecting`);
    o.restart();
  });
}

/** The last message a member dead-lettered: why, and where it came from. */
export interface DeadLetterRecord {
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  at: string;
}

export interface GroupMemberSettings {
  kafka: Kafka;
  groupId: string;
  /** The topics consumed (created when missing). */
  topics: string[];
  /** Their partitions when we create them; ensureTopics' default when absent. */
  partitions?: number;
  deadLetterTopic: string;
  owner: string;
  logger: RunnerLogger;
  /** Longest pause between two connection attempts (no group session to keep alive meanwhile). */
  maxConnectDelayMs: number;
  /** The dead-letter producer's partitioner; kafkajs' default when absent. */
  createPartitioner?: ICustomPartitioner;
}

/**
 * A consumer-group member with a dead-letter topic. It owns the consumer's lifecycle (connecting
 * in the background, a new consumer when kafkajs gave up on one, leaving the group on stop), the
 * producer of its dead letters, its state and last error, and its status as a runner. A subclass
 * says how its consumer runs and what a message means (`runConfig`), and may hook in where noted.
 */
export abstract class GroupMember {
  protected consumer: Consumer | null = null;
  private producer: Producer | null = null;
  protected stopping = false;
  protected state: MemberState = "starting";
  /** What is failing right now (a broker or service that is down); null when all is well. */
  protected lastError: string | null = null;
  protected lastDeadLetter: DeadLetterRecord | null = null;
  private readonly sleepers = new Set<() => void>();
  private loop: Promise<void> | null = null;

  protected constructor(protected readonly member: GroupMemberSettings) {}

  abstract get name(): string;

  /** Messages done with, for the runner status. */
  protected abstract get done(): number;

  /** Messages not consumed yet, as far as the member knows. */
  protected get lag(): number {
    return 0;
  }

  /** The member's counts; dead letters are counted here. */
  protected abstract readonly counts: { deadLettered: number };

  /** How kafkajs runs the consumer: its message handler and how offsets are committed. */
  protected abstract runConfig(): ConsumerRunConfig;

  /** The error a message handler throws when stopping (the message stays uncommitted). */
  protected abstract stoppedError(): Error;

  /** Waits before dead-lettering again after the broker refused (heartbeating, a partition being in hand). */
  protected abstract deadLetterPause(attempt: number, heartbeat: () => Promise<void>): Promise<void>;

  /** Consumer settings beyond the group and our defaults. */
  protected consumerTuning(): Partial<ConsumerConfig> {
    return {};
  }

  /** Hook: once the topics exist, before the consumer is made. */
  protected async beforeConsuming(): Promise<void> {}

  /** Hook: a new consumer, before it connects (to listen to its events). */
  protected watch(_consumer: Consumer): void {}

  /** Hook: the consumer is let go; whatever belonged to its assignment is void. */
  protected released(): void {}

  /** Hook: stopping; the member's own background work ends before the consumer and producer go. */
  protected async quiesce(): Promise<void> {}

  /** Connects in the background: a broker that is down shows in the status and is retried. */
  start(): void {
    this.stopping = false;
    this.loop ??= this.connectLoop().finally(() => (this.loop = null));
  }

  /** Leaves the group (its partitions move at once), after the message in hand; a retry in progress is abandoned uncommitted. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeAll();
    await this.quiesce();
    await this.disconnect();
    await this.loop;
    this.state = "stopped";
  }

  /** Tries again now what is waiting: a connection, a retry (the REPL's `projections resume`). */
  resume(): void {
    this.wakeAll();
  }

  /** As the runners report themselves, so /api/ready and the REPL show a consumer that cannot work. */
  runnerStatus(): RunnerStatus {
    const { name, done, lag, state, lastError } = this;
    return memberRunnerStatus({ name, owner: this.member.owner, state, done, lag, lastError });
  }

  /** This member as one of the node's runners. */
  runnerEntry(): RunnerEntry {
    return {
      name: this.name,
      // A member lagging degrades what it feeds (partners' streams, notifications); it never makes the shop unready.
      kind: "bridge",
      status: async () => [this.runnerStatus()],
      resume: () => this.resume(),
      wake: () => undefined,
    };
  }

  private connectLoop(): Promise<void> {
    return connectUntilUp({
      name: this.name,
      logger: this.member.logger,
      connect: () => this.connect(),
      disconnect: () => this.disconnect(),
      stopping: () => this.stopping,
      failed: (text) => {
        this.state = "failed";
        this.lastError = text;
      },
      sleep: (ms) => this.sleep(ms),
      maxDelayMs: this.member.maxConnectDelayMs,
    });
  }

  private async connect(): Promise<void> {
    const { kafka, groupId, topics, partitions, deadLetterTopic } = this.member;
    await ensureTopics(kafka, topics, partitions);
    // One partition: a dead letter is named by its offset alone.
    await ensureTopics(kafka, [deadLetterTopic], 1);
    await this.beforeConsuming();
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, ...this.consumerTuning(), maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    restartWhenAbandoned(consumer, {
      name: this.name,
      logger: this.member.logger,
      stopping: () => this.stopping,
      current: () => this.consumer === consumer,
      failed: (text, abandoned) => {
        this.lastError = text;
        if (abandoned) this.state = "failed";
      },
      restart: () => void this.disconnect().then(() => this.start()),
    });
    this.watch(consumer);
    await consumer.connect();
    // A group's first start reads from the beginning: nothing published before any member ran is lost (a
    // partner's history is imported, triggers from before the first notification node are handled).
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run(this.runConfig());
    this.state = "running";
    this.lastError = null;
    this.member.logger.info(`${this.name}: consuming ${topics.join(", ")} as group ${groupId}`);
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.released();
    await consumer?.disconnect().catch(() => undefined);
    await this.dropProducer();
  }

  protected async ensureProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.member.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      ...(this.member.createPartitioner ? { createPartitioner: this.member.createPartitioner } : {}),
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Something the member needs is failing: it retries, and says why. */
  protected retrying(text: string): void {
    this.state = "retrying";
    this.lastError = text;
  }

  /** What was retried went through; answers whether the member was retrying. */
  protected recovered(): boolean {
    if (this.state !== "retrying") return false;
    this.state = "running";
    this.lastError = null;
    return true;
  }

  /** Waits, unless the member stops or an operator asks to go on now; resolves true when woken early. */
  protected sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.sleepers.delete(wake);
        resolve(false);
      }, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** The original key, bytes and headers, plus why and where from; retried until the broker takes it (never committed before). */
  protected async deadLetter(
    topic: string,
    partition: number,
    message: EachMessagePayload["message"],
    reason: string,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const at = new Date().toISOString();
    const headers = deadLetterHeaders(message, { topic, partition, reason, at });
    await publishDeadLetter({
      topic: this.member.deadLetterTopic,
      message,
      headers,
      producer: () => this.ensureProducer(),
      dropProducer: () => this.dropProducer(),
      stopping: () => this.stopping,
      stoppedError: () => this.stoppedError(),
      failed: (text, attempt) => {
        this.retrying(text);
        if (attempt === 1) this.member.logger.warn(`${this.name}: ${text}; retrying`);
      },
      pause: (attempt) => this.deadLetterPause(attempt, heartbeat),
    });
    this.counts.deadLettered++;
    this.lastDeadLetter = { reason, topic, partition, offset: message.offset, at };
    this.recovered();
    this.member.logger.warn(`${this.name}: ${topic}/${partition}@${message.offset} dead-lettered: ${reason}`);
  }
}
