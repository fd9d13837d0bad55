import { randomUUID } from "node:crypto";
import { Partitioners, type Consumer, type EachMessagePayload, type IHeaders, type Kafka, type Producer } from "kafkajs";
import type { InboundTopicKind, PartnerConfig, PartnerInbound as InboundConfig } from "../../lib/config/partners";
import { UNKNOWN_REFERENCE } from "../../lib/domain/external";
import type { RunnerLogger, RunnerStatus } from "../../lib/eventlog/runner";
import { deadLetterHeaders, headerText, withoutDlqHeaders } from "../../lib/kafka/dead-letters";
import {
  connectUntilUp,
  memberRunnerStatus,
  publishDeadLetter,
  restartWhenAbandoned,
  type MemberState,
} from "../../lib/kafka/group-member";
import { kafkaErrorText } from "../../lib/kafka/errors";
import { ensureTopics } from "../../lib/kafka/kafka";
import type { Store } from "../../lib/store/types";
import { HeldMessages, type HeldMessage } from "./held-messages";
import { inboundCommandId, InboundRejected, mapInbound, type InboundCommand } from "./inbound-mapping";
import { BridgeError } from "./partner-bridge";

/** Runs one import command on the service that owns it; answers whether the command changed anything. */
export type InboundCall = (action: InboundCommand["action"], params: object, commandId: string) => Promise<{ changed: boolean }>;

export interface PartnerInboundOptions {
  partner: PartnerConfig & { inbound: InboundConfig };
  kafka: Kafka;
  call: InboundCall;
  store: Store;
  owner: string;
  logger: RunnerLogger;
  /** Records of a partition not yet consumed, after each batch (high watermark minus our offset). */
  onLag?(topic: string, partition: number, lag: number): void;
  /** Longest pause between retries of a broker or store that is down (the group's session must outlive it). */
  maxRetryDelayMs?: number;
}

export interface DeadLetterRecord {
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  at: string;
}

export interface InboundStatus {
  partner: string;
  name: string;
  groupId: string;
  topics: Partial<Record<InboundTopicKind, string>>;
  deadLetterTopic: string;
  state: MemberState;
  /** Messages that changed something, that changed nothing (repeats, stale versions), that did not concern us, and dead letters. */
  counts: { applied: number; unchanged: number; skipped: number; deadLettered: number };
  /** What is failing right now (a broker or service that is down); null when all is well. */
  lastError: string | null;
  /** Messages set aside until their event or order arrives on another topic (and those queued behind them, per key). */
  held: number;
  /** The oldest of them, with its reason. */
  waiting: string | null;
  lastDeadLetter: DeadLetterRecord | null;
}

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
/** How often messages set aside are tried again (sooner when something was applied). */
const RETRY_TICK_MS = 100;
/** Longest pause between two tries of one held message. */
const MAX_HELD_BACKOFF_MS = 1_000;
/** Beyond this many held messages, consuming waits for some to resolve: memory stays bounded. */
const MAX_HELD = 10_000;

type Verdict = { kind: "permanent" | "reference" | "transient"; reason: string };

/**
 * Whether a failure is the message's fault (dead-letter it), a reference that may still arrive
 * on another topic (wait a little), or the weather (a broker, node or store that is down: retry,
 * never dead-letter). Moleculer errors keep `retryable`, `code` and `type` across the transporter.
 */
export function classify(err: unknown): Verdict {
  const e = err as { message?: string; retryable?: boolean; code?: unknown; type?: string };
  const reason = e?.message ?? String(err);
  if (err instanceof InboundRejected) return { kind: "permanent", reason };
  if (e?.retryable) return { kind: "transient", reason };
  if (e?.type === UNKNOWN_REFERENCE) return { kind: "reference", reason };
  if (typeof e?.code === "number" && e.code >= 400 && e.code < 500) return { kind: "permanent", reason };
  return { kind: "transient", reason };
}

/**
 * The provider's protobuf streams of one partner, consumed into our domain: each message is
 * decoded, translated and applied through the owning service's import action, in order per key.
 * A message that cannot be decoded or applied goes to the dead-letter topic (the original key,
 * bytes and headers, plus the reason and where it came from) and the consumer moves on; a
 * broker or service that is down is retried without moving on.
 *
 * A message naming an event or order that has not arrived yet is set aside under its key
 * (HeldMessages) and tried again beside the consumer, which goes on reading every topic and
 * partition, so the message that brings the reference can arrive; only after referenceWaitMs
 * has passed with everything else flowing is it dead-lettered. Offsets are committed by us,
 * never past a held message, so a crash loses nothing: the broker delivers it again, and the
 * messages after it are applied again harmlessly (every import is idempotent: deterministic
 * ids and command ids).
 */
export class PartnerInbound {
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private stopping = false;
  private state: InboundStatus["state"] = "starting";
  private lastError: string | null = null;
  private readonly held = new HeldMessages();
  /** Moves on every rebalance or reconnection: work of an older assignment is dropped. */
  private generation = 0;
  private kicked = false;
  private wakeRetrier: (() => void) | null = null;
  private retrier: Promise<void> | null = null;
  private lastDeadLetter: DeadLetterRecord | null = null;
  private readonly counts = { applied: 0, unchanged: 0, skipped: 0, deadLettered: 0 };
  private readonly kinds: Map<string, InboundTopicKind>;
  private wakeSleep: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: PartnerInboundOptions) {
    this.kinds = new Map(
      (Object.entries(options.partner.inbound.topics) as [InboundTopicKind, string][]).map(([kind, topic]) => [topic, kind]),
    );
  }

  get name(): string {
    return `kafka.${this.options.partner.id}.inbound`;
  }

  private get config(): InboundConfig {
    return this.options.partner.inbound;
  }

  /** Connects in the background: a broker that is down shows in the status and is retried. */
  start(): void {
    this.stopping = false;
    this.loop ??= this.connectLoop().finally(() => (this.loop = null));
    this.retrier ??= this.retryHeld().finally(() => (this.retrier = null));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.();
    this.wakeRetrier?.();
    await this.retrier;
    await this.disconnect();
    await this.loop;
    this.state = "stopped";
  }

  /** Reconnects now (the REPL's `projections resume` on a failed consumer). */
  resume(): void {
    this.wakeSleep?.();
  }

  status(): InboundStatus {
    const { partner } = this.options;
    return {
      partner: partner.id,
      name: this.name,
      groupId: this.config.groupId,
      topics: this.config.topics,
      deadLetterTopic: this.config.deadLetterTopic,
      state: this.state,
      counts: { ...this.counts },
      lastError: this.lastError,
      held: this.held.size,
      waiting: this.waitingText(),
      lastDeadLetter: this.lastDeadLetter,
    };
  }

  /** As the runners report themselves, so /api/ready shows a consumer that cannot work. */
  runnerStatus(): RunnerStatus {
    const done = Object.values(this.counts).reduce((a, b) => a + b, 0);
    return memberRunnerStatus({
      name: this.name,
      owner: this.options.owner,
      state: this.state,
      done,
      lag: 0,
      lastError: this.lastError,
    });
  }

  private connectLoop(): Promise<void> {
    return connectUntilUp({
      name: this.name,
      logger: this.options.logger,
      connect: () => this.connect(),
      disconnect: () => this.disconnect(),
      stopping: () => this.stopping,
      failed: (text) => {
        this.state = "failed";
        this.lastError = text;
      },
      sleep: (ms) => this.sleep(ms),
      // No group session to keep alive here: back off further (up to half a minute).
      maxDelayMs: 30_000,
    });
  }

  private async connect(): Promise<void> {
    const { kafka } = this.options;
    const topics = [...this.kinds.keys()];
    await ensureTopics(kafka, topics);
    // One partition: a dead letter is named by its offset alone.
    await ensureTopics(kafka, [this.config.deadLetterTopic], 1);
    await this.ensureProducer();
    const consumer = kafka.consumer({ groupId: this.config.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    restartWhenAbandoned(consumer, {
      name: this.name,
      logger: this.options.logger,
      stopping: () => this.stopping,
      current: () => this.consumer === consumer,
      failed: (text, abandoned) => {
        this.lastError = text;
        if (abandoned) this.state = "failed";
      },
      restart: () => void this.disconnect().then(() => this.start()),
    });
    // A new assignment is read again from the committed offsets, which never passed a held message.
    consumer.on(consumer.events.GROUP_JOIN, () => this.forgetHeld());
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      this.options.onLag?.(payload.topic, payload.partition, Number(payload.offsetLag)),
    );
    await consumer.connect();
    // The first time the group starts, the provider's history is imported too.
    await consumer.subscribe({ topics, fromBeginning: true });
    // We commit (see commitHeld): never past a message set aside.
    await consumer.run({ autoCommit: false, eachMessage: (payload) => this.handle(payload) });
    this.state = "running";
    this.lastError = null;
    this.options.logger.info(`${this.name}: consuming ${topics.join(", ")} as group ${this.config.groupId}`);
  }

  private forgetHeld(): void {
    this.generation++;
    this.held.clear();
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.forgetHeld();
    await consumer?.disconnect().catch(() => undefined);
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }

  private async ensureProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java clients' partitioning: a re-driven message goes back to its key's partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  /** Waits, unless the consumer stops or an operator asks to go on now. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }

  private async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const generation = this.generation;
    while (this.held.size >= MAX_HELD && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await heartbeat();
    }
    const key = this.held.keyOf(topic, partition, message.key);
    const now = Date.now();
    if (this.held.queueOf(key)) {
      // Its key waits for a reference: it goes after the held one, in order.
      this.held.hold(key, { topic, partition, message, since: now, reason: null, attempts: 0, nextAt: 0 });
    } else {
      const reference = await this.applyNow(topic, partition, message, heartbeat);
      if (generation !== this.generation) return;
      if (reference !== null) {
        this.held.hold(key, {
          topic,
          partition,
          message,
          since: now,
          reason: reference,
          attempts: 1,
          nextAt: now + RETRY_TICK_MS,
        });
      } else if (this.held.size > 0) {
        // What was just applied may be what a held message waits for.
        this.kicked = true;
        this.wakeRetrier?.();
      }
    }
    this.held.passed(topic, partition, message.offset);
  }

  /**
   * Applies one message now, retrying the weather in place; dead-letters a bad one. Answers the
   * reason when it names something that has not arrived (to be held), else null.
   */
  private async applyNow(
    topic: string,
    partition: number,
    message: EachMessagePayload["message"],
    heartbeat: () => Promise<void>,
  ): Promise<string | null> {
    const kind = this.kinds.get(topic)!;
    const where = `${topic}/${partition}@${message.offset}`;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Error(`${this.name} is stopping`);
      const verdict = await this.tryApply(kind, message);
      if (!verdict) return null;
      if (verdict.kind === "reference" && this.config.referenceWaitMs > 0) return verdict.reason;
      if (verdict.kind !== "transient") {
        await this.deadLetter(topic, partition, message, verdict.reason, heartbeat);
        return null;
      }
      this.state = "retrying";
      this.lastError = `${where}: ${verdict.reason}`;
      if (attempt === 1) this.options.logger.warn(`${this.name}: ${this.lastError}; retrying`);
      await this.sleep(Math.min(this.options.maxRetryDelayMs ?? 5_000, 200 * 2 ** Math.min(attempt, 8)));
      // Retrying takes time: the group must still know this consumer is alive.
      await heartbeat();
    }
  }

  /** One attempt: null when the message was applied (or had nothing to do), else why not. */
  private async tryApply(kind: InboundTopicKind, message: EachMessagePayload["message"]): Promise<Verdict | null> {
    try {
      const outcome = await this.apply(kind, message.value ?? Buffer.alloc(0));
      this.counts[outcome]++;
      if (this.state === "retrying") {
        this.state = "running";
        this.lastError = null;
      }
      return null;
    } catch (err) {
      return classify(err);
    }
  }

  /**
   * Beside the consumer: tries the held messages again, each key in order, dead-letters those
   * whose reference did not arrive within referenceWaitMs, and commits what is safe.
   */
  private async retryHeld(): Promise<void> {
    while (!this.stopping) {
      const generation = this.generation;
      const kicked = this.kicked;
      this.kicked = false;
      try {
        for (const key of this.held.keys()) {
          if (this.stopping || generation !== this.generation) break;
          await this.retryKey(key, generation, kicked);
        }
        await this.commitHeld();
      } catch (err) {
        // A dead letter interrupted by stopping: the message stays uncommitted, the next owner has it.
        if (this.stopping) return;
        this.options.logger.warn(`${this.name}: retrying held messages failed (${kafkaErrorText(err)}); trying again`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, RETRY_TICK_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeRetrier = done;
      });
    }
  }

  private async retryKey(key: string, generation: number, kicked: boolean): Promise<void> {
    for (;;) {
      const head: HeldMessage | undefined = this.held.queueOf(key)?.[0];
      if (!head || (!kicked && head.attempts > 0 && head.nextAt > Date.now())) return;
      const verdict = await this.tryApply(this.kinds.get(head.topic)!, head.message);
      // A rebalance meanwhile: the message belongs to the new assignment now.
      if (generation !== this.generation || this.held.queueOf(key)?.[0] !== head) return;
      if (
        verdict &&
        (verdict.kind === "transient" || (verdict.kind === "reference" && Date.now() - head.since < this.config.referenceWaitMs))
      ) {
        if (verdict.kind === "transient") {
          this.state = "retrying";
          this.lastError = `${head.topic}/${head.partition}@${head.message.offset}: ${verdict.reason}`;
        }
        head.reason = verdict.reason;
        head.attempts++;
        head.nextAt = Date.now() + Math.min(MAX_HELD_BACKOFF_MS, RETRY_TICK_MS * 2 ** Math.min(head.attempts, 10));
        return;
      }
      if (verdict) await this.deadLetter(head.topic, head.partition, head.message, verdict.reason, async () => undefined);
      if (generation !== this.generation) return;
      this.held.shift(key);
      // The next message of this key was waiting only for this one.
      kicked = true;
    }
  }

  /** Commits each partition up to its oldest held message (or all it read); a refusal is retried next time. */
  private async commitHeld(): Promise<void> {
    const consumer = this.consumer;
    const offsets = this.held.commitable();
    if (!consumer || offsets.length === 0) return;
    const generation = this.generation;
    try {
      await consumer.commitOffsets(offsets);
      if (generation === this.generation) this.held.markCommitted(offsets);
    } catch (err) {
      // A rebalance in progress: the new owner reads from the last commit, which is safe.
      this.options.logger.warn(`${this.name}: could not commit offsets (${kafkaErrorText(err)}); will try again`);
    }
  }

  private waitingText(): string | null {
    const oldest = this.held.oldest();
    if (!oldest) return null;
    const where = `${oldest.topic}/${oldest.partition}@${oldest.message.offset}`;
    const left = Math.max(0, oldest.since + this.config.referenceWaitMs - Date.now());
    return `${this.held.size} held; oldest ${where}: ${oldest.reason ?? "queued behind its key"}; dead-lettered in ${left} ms unless it arrives`;
  }

  private async apply(kind: InboundTopicKind, bytes: Buffer): Promise<"applied" | "unchanged" | "skipped"> {
    const { partner } = this.options;
    const command = mapInbound(kind, bytes, { partner: partner.id, inbound: this.config });
    if ("skip" in command) {
      if (command.notable) this.options.logger.info(`${this.name}: ${command.skip}: skipped`);
      return "skipped";
    }
    const result = await this.options.call(command.action, command.params, inboundCommandId(partner.id, kind, bytes));
    return result.changed ? "applied" : "unchanged";
  }

  /** The original key, bytes and headers, plus why and where from; retried until the broker takes it. */
  private async deadLetter(
    topic: string,
    partition: number,
    message: EachMessagePayload["message"],
    reason: string,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const at = new Date().toISOString();
    const headers = deadLetterHeaders(message, { topic, partition, reason, at });
    await publishDeadLetter({
      topic: this.config.deadLetterTopic,
      message,
      headers,
      producer: () => this.ensureProducer(),
      dropProducer: async () => {
        const producer = this.producer;
        this.producer = null;
        await producer?.disconnect().catch(() => undefined);
      },
      stopping: () => this.stopping,
      stoppedError: () => new Error(`${this.name} is stopping`),
      failed: (text) => {
        this.state = "retrying";
        this.lastError = text;
      },
      pause: async (attempt) => {
        await this.sleep(Math.min(this.options.maxRetryDelayMs ?? 5_000, 200 * 2 ** Math.min(attempt, 8)));
        await heartbeat();
      },
    });
    this.counts.deadLettered++;
    this.lastDeadLetter = { reason, topic, partition, offset: message.offset, at };
    if (this.state === "retrying") {
      this.state = "running";
      this.lastError = null;
    }
    this.options.logger.warn(`${this.name}: ${topic}/${partition}@${message.offset} dead-lettered: ${reason}`);
  }

  private get redrives() {
    return this.options.store.collection<RedriveDoc>("inbound_redrives");
  }

  private redriveId(letter: Pick<DeadLetter, "partition" | "offset">): string {
    return `${this.options.partner.id}/${letter.partition}:${letter.offset}`;
  }

  /** Everything in the dead-letter topic now (oldest first), read with a throw-away consumer that commits nothing. */
  private async readDeadLetters(): Promise<StoredDeadLetter[]> {
    const { kafka } = this.options;
    const topic = this.config.deadLetterTopic;
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
    const consumer = kafka.consumer({ groupId: `${this.config.groupId}.dlq-reader.${randomUUID()}`, maxWaitTimeInMs: 100 });
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
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const letters = await this.readDeadLetters();
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
    const letters = await this.readDeadLetters();
    let chosen: StoredDeadLetter[];
    if (offset !== undefined) {
      const [partition, at] = offset.includes(":") ? offset.split(":") : ["0", offset];
      chosen = letters.filter((l) => String(l.partition) === partition && l.offset === at);
      if (chosen.length === 0)
        throw new BridgeError(
          `no dead letter at ${offset} in ${this.config.deadLetterTopic} of partner ${this.options.partner.id}`,
          404,
        );
    } else {
      chosen = letters.filter((l) => !l.redrivenAt);
    }
    const known = new Set(this.kinds.keys());
    const unknown = chosen.find((l) => !known.has(l.topic));
    if (unknown)
      throw new BridgeError(
        `dead letter ${unknown.offset} came from ${unknown.topic || "no topic"}, which partner ${this.options.partner.id} does not consume`,
      );
    const producer = await this.ensureProducer();
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
              [REDRIVEN_FROM]: `${this.config.deadLetterTopic}/${letter.partition}:${letter.offset}`,
            },
          },
        ],
      });
      await this.redrives.upsert({ _id: this.redriveId(letter), at: Date.now() });
      redriven.push({ offset: letter.offset, topic: letter.topic, key: letter.key });
      this.options.logger.info(`${this.name}: dead letter ${letter.offset} re-driven to ${letter.topic}`);
    }
    return { partner: this.options.partner.id, redriven };
  }
}
