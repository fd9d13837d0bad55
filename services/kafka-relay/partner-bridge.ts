import type { PartnerConfig, PartnerTopicKind } from "../../lib/config/partners";
import type { Kafka } from "kafkajs";
import { CHECKPOINTS, Checkpoints, type CheckpointDoc } from "../../lib/eventlog/checkpoints";
import type { RunnerLogger, RunnerStatus } from "../../lib/eventlog/runner";
import type { Commit, EventLog } from "../../lib/eventlog/types";
import { createKafka, type KafkaLogger } from "../../lib/kafka/kafka";
import { encodePartnerMessage } from "../../lib/kafka/partner-proto";
import { KafkaRelay, type DeliveryLedger, type OutboundMessage, type RelayObserver } from "../../lib/kafka/relay";
import type { AppMetrics } from "../../lib/metrics/app-metrics";
import type { Store } from "../../lib/store/types";
import { catalogueMessages, orderSnapshot, salesMessages, type MessageMapper, type PartnerMessage } from "./partner-messages";

const CONTENT_TYPES = { json: "application/json", protobuf: "application/x-protobuf" } as const;

/** Which log feeds which topics. */
export const SOURCES = {
  catalogue: ["organizers", "events", "music"],
  sales: ["orders", "refunds", "tickets"],
} as const satisfies Record<string, readonly PartnerTopicKind[]>;
export type SourceName = keyof typeof SOURCES;

/** The log that feeds a topic. */
export function sourceOf(kind: PartnerTopicKind): SourceName {
  return (SOURCES.catalogue as readonly PartnerTopicKind[]).includes(kind) ? "catalogue" : "sales";
}

export function relayName(partner: string, source: SourceName): string {
  return `kafka.${partner}.${source}`;
}

interface DeliveredDoc {
  _id: string;
  at: number;
}

/**
 * The events a partner has received, so its orders and tickets (another log) wait for them:
 * remembered in the store, so a partner added today still gets an old event before its orders.
 */
class DeliveredEvents implements DeliveryLedger {
  private readonly known = new Set<string>();
  constructor(
    private readonly store: Store,
    private readonly partner: string,
  ) {}

  private get docs() {
    return this.store.collection<DeliveredDoc>("partner_deliveries");
  }

  private id(eventId: string): string {
    return `${this.partner}/${eventId}`;
  }

  async missing(ids: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const id of ids) {
      if (this.known.has(id)) continue;
      if (await this.docs.get(this.id(id))) this.known.add(id);
      else missing.push(id);
    }
    return missing;
  }

  async record(ids: string[]): Promise<void> {
    const now = Date.now();
    for (const id of ids) {
      if (this.known.has(id)) continue;
      await this.docs.upsert({ _id: this.id(id), at: now });
      this.known.add(id);
    }
  }
}

/** One partner's message, in its format, with the headers the contract asks for. */
export function encodeFor(partner: PartnerConfig, message: PartnerMessage): OutboundMessage | null {
  const topic = partner.topics[message.kind];
  if (!topic) return null;
  // The configuration allows protobuf only for the kinds the contract has a schema for.
  const value =
    topic.format === "json"
      ? JSON.stringify(message.body)
      : encodePartnerMessage(message.kind as Exclude<PartnerTopicKind, "music">, message.body as never, message);
  return {
    topic: topic.name,
    key: message.key,
    value,
    headers: {
      "content-type": CONTENT_TYPES[topic.format],
      "schema-version": partner.schemaVersion,
      "application-id": partner.applicationId,
      "event-id": message.sourceEventId,
      "stream-version": String(message.streamVersion),
    },
    // Orders and tickets must follow their event, when this partner takes events at all.
    after: partner.topics.events && sourceOf(message.kind) === "sales" ? message.eventId : undefined,
    delivers: message.kind === "events" ? message.eventId : undefined,
  };
}

export interface PartnerBridgeOptions {
  partner: PartnerConfig;
  store: Store;
  logs: Record<SourceName, EventLog>;
  owner: string;
  logger: RunnerLogger;
  tuning?: ConstructorParameters<typeof KafkaRelay>[0]["tuning"];
  /** After the broker acknowledged a batch of a live relay (benchmarks, tests). */
  onDelivered?(source: SourceName, commits: readonly Commit[], messages: readonly OutboundMessage[]): void;
  /** Records sent, send errors and retries per topic of this partner; absent: not counted. */
  metrics?: AppMetrics;
}

/** Everything one partner receives: a relay per source log, sharing what was delivered. */
export class PartnerBridge {
  readonly relays = new Map<SourceName, KafkaRelay>();
  private readonly mappers = new Map<SourceName, MessageMapper>();
  private readonly replays = new Map<string, { relay: KafkaRelay; source: SourceName; topic: string }>();
  private readonly kafka: Kafka;
  private readonly ledger: DeliveredEvents;

  constructor(readonly options: PartnerBridgeOptions) {
    const { partner, logs } = options;
    this.kafka = createKafka(partner.connection, options.logger as KafkaLogger);
    this.ledger = new DeliveredEvents(options.store, partner.id);
    for (const source of Object.keys(SOURCES) as SourceName[]) {
      const topics = this.topicsOf(source);
      if (topics.length === 0) continue;
      const mapper = source === "catalogue" ? catalogueMessages(logs.catalogue, options.store) : salesMessages(logs.sales);
      this.mappers.set(source, mapper);
      this.relays.set(
        source,
        new KafkaRelay({
          ...this.relayOptions(source, topics),
          name: relayName(partner.id, source),
          map: async (commits) => (await mapper(commits)).flatMap((m) => encodeFor(partner, m) ?? []),
          onDelivered: options.onDelivered && ((commits, messages) => options.onDelivered!(source, commits, messages)),
        }),
      );
    }
  }

  private relayOptions(source: SourceName, topics: string[]) {
    const { store, logs, owner, logger, tuning } = this.options;
    return {
      kafka: this.kafka,
      store,
      log: logs[source],
      topics,
      owner,
      logger,
      ledger: this.ledger,
      tuning,
      observer: this.observer(),
    };
  }

  /** Labelled as the partner's integration design asks: partner, our application-id, topic. */
  private observer(): RelayObserver | undefined {
    const { partner, metrics } = this.options;
    if (!metrics) return undefined;
    const { id, applicationId } = partner;
    return {
      sent: (topic, count) => metrics.kafkaSent(id, applicationId, topic, count),
      failed: (topic) => metrics.kafkaSendError(id, applicationId, topic),
      retried: (topic) => metrics.kafkaSendRetry(id, applicationId, topic),
    };
  }

  get id(): string {
    return this.options.partner.id;
  }

  async start(): Promise<void> {
    for (const relay of this.relays.values()) await relay.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.relays.values()].map((r) => r.stop()));
  }

  wake(source: SourceName): void {
    this.relays.get(source)?.wake();
  }

  async status(): Promise<Array<RunnerStatus & { partner: string; source: SourceName; topics: string[] }>> {
    const out = [];
    for (const [source, relay] of this.relays)
      out.push({ ...(await relay.status()), partner: this.id, source, topics: this.topicsOf(source) });
    for (const [name, replay] of this.replays) {
      out.push({ ...(await replay.relay.status()), partner: this.id, source: replay.source, topics: [replay.topic], name });
    }
    return out;
  }

  private topicsOf(source: SourceName, only?: PartnerTopicKind): string[] {
    const topics = this.options.partner.topics;
    return SOURCES[source].flatMap((kind) => (topics[kind] && (!only || only === kind) ? [topics[kind].name] : []));
  }

  private relayOf(source: SourceName, kind?: PartnerTopicKind): KafkaRelay {
    const relay = this.relays.get(source);
    if (!relay || (kind && !this.options.partner.topics[kind]))
      throw new BridgeError(`partner ${this.id} does not receive ${kind ?? `the ${source} topics`}`);
    return relay;
  }

  /**
   * Publishes one topic again from a log position (or the first commit at or after a time) up
   * to the head as it is now, beside the live relay. Partners see repeats, which the
   * `event-id` header lets them drop; the live relay's checkpoint does not move.
   */
  async replay(source: SourceName, kind: PartnerTopicKind, from: { pos: number } | { at: number }) {
    this.relayOf(source, kind);
    const log = this.options.logs[source];
    const head = await log.head();
    const start = "pos" in from ? Math.max(1, from.pos) : await firstAtOrAfter(log, from.at, head);
    if (start > head) return { partner: this.id, topic: kind, from: start, to: head, messages: "nothing to replay" };
    const name = `${relayName(this.id, source)}.replay-${kind}-${Date.now()}`;
    await this.options.store.collection<CheckpointDoc>(CHECKPOINTS).upsert({
      _id: name,
      pos: start - 1,
      owner: null,
      leaseUntil: 0,
      updatedAt: Date.now(),
      fault: null,
    });
    const mapper = this.mappers.get(source)!;
    const relay = new KafkaRelay({
      ...this.relayOptions(source, this.topicsOf(source, kind)),
      name,
      map: async (commits) =>
        (await mapper(commits)).flatMap((m) => (m.kind === kind ? (encodeFor(this.options.partner, m) ?? []) : [])),
    });
    this.replays.set(name, { relay, source, topic: this.options.partner.topics[kind]!.name });
    await relay.start();
    void relay.waitFor(head, 24 * 3600_000).then(async () => {
      await relay.stop();
      this.replays.delete(name);
      await new Checkpoints(this.options.store).remove(name);
      this.options.logger.info(`${name}: replayed positions ${start}..${head}`);
    });
    return { partner: this.id, topic: kind, from: start, to: head, replay: name };
  }

  /**
   * Publishes one organizer, event or order as it is now, once the live relay has passed its
   * last change (so the resync never overtakes an older message of the same key).
   */
  async resync(source: SourceName, stream: string) {
    const relay = this.relayOf(source);
    const commits = await this.options.logs[source].readStream(stream);
    const last = commits[commits.length - 1];
    if (!last) throw new BridgeError(`no stream ${stream} in the ${source} log`, 404);
    if (!(await relay.waitFor(last.pos, 30_000)))
      throw new BridgeError(`the ${source} relay of ${this.id} has not reached position ${last.pos} yet; try again`, 409);
    const current =
      source === "sales" ? await orderSnapshot(this.options.logs.sales, stream) : await this.mappers.get(source)!([last]);
    const messages = current.flatMap((m) => encodeFor(this.options.partner, m) ?? []);
    await relay.deliver(messages);
    return { partner: this.id, stream, messages: messages.map((m) => `${m.topic}/${m.key}`) };
  }
}

export class BridgeError extends Error {
  constructor(
    message: string,
    readonly code = 422,
  ) {
    super(message);
  }
}

/** The first position written at or after `at` (positions grow with time): a binary search. */
async function firstAtOrAfter(log: EventLog, at: number, head: number): Promise<number> {
  let lo = 1;
  let hi = head + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [commit] = await log.readFrom(mid - 1, 1);
    if (!commit || commit.at >= at) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
