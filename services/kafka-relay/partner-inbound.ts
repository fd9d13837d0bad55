import type { Consumer, ConsumerRunConfig, EachMessagePayload, Kafka } from "kafkajs";
import type { InboundTopicKind, PartnerConfig, PartnerInbound as InboundConfig } from "../../lib/config/partners";
import { UNKNOWN_REFERENCE } from "../../lib/domain/external";
import type { RunnerLogger } from "../../lib/eventlog/runner";
import { GroupMember, type DeadLetterRecord, type MemberState } from "../../lib/kafka/group-member";
import { kafkaErrorText } from "../../lib/kafka/errors";
import { kafkajs } from "../../lib/kafka/kafka";
import type { Store } from "../../lib/store/types";
import { HeldMessages, type HeldMessage } from "./held-messages";
import { InboundDeadLetters, type DeadLetter } from "./inbound-dead-letters";
import { inboundCommandId, InboundRejected, mapInbound, type InboundCommand } from "./inbound-mapping";

export type { DeadLetter } from "./inbound-dead-letters";
export type { DeadLetterRecord } from "../../lib/kafka/group-member";

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
export class PartnerInbound extends GroupMember {
  private readonly held = new HeldMessages();
  /** Moves on every rebalance or reconnection: work of an older assignment is dropped. */
  private generation = 0;
  private kicked = false;
  private wakeRetrier: (() => void) | null = null;
  private retrier: Promise<void> | null = null;
  protected readonly counts = { applied: 0, unchanged: 0, skipped: 0, deadLettered: 0 };
  private readonly kinds: Map<string, InboundTopicKind>;
  private readonly letters: InboundDeadLetters;

  constructor(private readonly options: PartnerInboundOptions) {
    const { inbound } = options.partner;
    super({
      kafka: options.kafka,
      groupId: inbound.groupId,
      topics: [...new Set(Object.values(inbound.topics))],
      deadLetterTopic: inbound.deadLetterTopic,
      owner: options.owner,
      logger: options.logger,
      // No group session to keep alive while connecting: back off further (up to half a minute).
      maxConnectDelayMs: 30_000,
      // Java clients' partitioning: a re-driven message goes back to its key's partition.
      createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
    });
    this.kinds = new Map((Object.entries(inbound.topics) as [InboundTopicKind, string][]).map(([kind, topic]) => [topic, kind]));
    this.letters = new InboundDeadLetters({
      partner: options.partner.id,
      name: this.name,
      kafka: options.kafka,
      store: options.store,
      groupId: inbound.groupId,
      deadLetterTopic: inbound.deadLetterTopic,
      topics: new Set(this.kinds.keys()),
      producer: () => this.ensureProducer(),
      logger: options.logger,
    });
  }

  get name(): string {
    return `kafka.${this.options.partner.id}.inbound`;
  }

  private get config(): InboundConfig {
    return this.options.partner.inbound;
  }

  protected get done(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  override start(): void {
    super.start();
    this.retrier ??= this.retryHeld().finally(() => (this.retrier = null));
  }

  protected override async quiesce(): Promise<void> {
    this.wakeRetrier?.();
    await this.retrier;
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

  /** The dead letters (the newest `limit`), without their bytes. */
  deadLetters(limit?: number): Promise<DeadLetter[]> {
    return this.letters.list(limit);
  }

  /** Publishes dead letters again to the topic they came from (see InboundDeadLetters.redrive). */
  redrive(offset?: string): ReturnType<InboundDeadLetters["redrive"]> {
    return this.letters.redrive(offset);
  }

  /** The producer (dead letters, re-drives) is connected up front, with the consumer. */
  protected override async beforeConsuming(): Promise<void> {
    await this.ensureProducer();
  }

  protected override watch(consumer: Consumer): void {
    // A new assignment is read again from the committed offsets, which never passed a held message.
    consumer.on(consumer.events.GROUP_JOIN, () => this.forgetHeld());
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      this.options.onLag?.(payload.topic, payload.partition, Number(payload.offsetLag)),
    );
  }

  protected runConfig(): ConsumerRunConfig {
    // We commit (see commitHeld): never past a message set aside.
    return { autoCommit: false, eachMessage: (payload) => this.handle(payload) };
  }

  protected override released(): void {
    this.forgetHeld();
  }

  private forgetHeld(): void {
    this.generation++;
    this.held.clear();
  }

  protected stoppedError(): Error {
    return new Error(`${this.name} is stopping`);
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.options.maxRetryDelayMs ?? 5_000, 200 * 2 ** Math.min(attempt, 8));
  }

  protected async deadLetterPause(attempt: number, heartbeat: () => Promise<void>): Promise<void> {
    await this.sleep(this.retryDelay(attempt));
    await heartbeat();
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
      if (this.stopping) throw this.stoppedError();
      const verdict = await this.tryApply(kind, message);
      if (!verdict) return null;
      if (verdict.kind === "reference" && this.config.referenceWaitMs > 0) return verdict.reason;
      if (verdict.kind !== "transient") {
        await this.deadLetter(topic, partition, message, verdict.reason, heartbeat);
        return null;
      }
      this.retrying(`${where}: ${verdict.reason}`);
      if (attempt === 1) this.options.logger.warn(`${this.name}: ${this.lastError}; retrying`);
      await this.sleep(this.retryDelay(attempt));
      // Retrying takes time: the group must still know this consumer is alive.
      await heartbeat();
    }
  }

  /** One attempt: null when the message was applied (or had nothing to do), else why not. */
  private async tryApply(kind: InboundTopicKind, message: EachMessagePayload["message"]): Promise<Verdict | null> {
    try {
      const outcome = await this.apply(kind, message.value ?? Buffer.alloc(0));
      this.counts[outcome]++;
      this.recovered();
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
          this.retrying(`${head.topic}/${head.partition}@${head.message.offset}: ${verdict.reason}`);
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
}
