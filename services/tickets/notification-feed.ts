/**
 * The ticket service's side of the notification pipeline in distributed mode: the log events
 * that cause notifications (TRIGGER_TYPES) are published to the internal topic, one relay per
 * log, with the partner relays' guarantees (lib/kafka/relay.ts): one runner under a lease
 * across the ticket nodes, the checkpoint moved only after the broker acknowledged, an
 * idempotent producer, and per-key order, the key being the trigger's stream (order-<id>,
 * event-<id>) so every trigger of one order reaches one notification node, in order.
 */
import type { Kafka } from "kafkajs";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import type { RunnerLogger, RunnerStatus } from "../../lib/eventlog/runner";
import { eventsOf, type Commit, type EventLog } from "../../lib/eventlog/types";
import { createKafka, type KafkaLogger } from "../../lib/kafka/kafka";
import { KafkaRelay, type OutboundMessage, type RelayMapper } from "../../lib/kafka/relay";
import type { Store } from "../../lib/store/types";
import { SALES_LOG } from "../inventory/inventory.types";
import { TRIGGER_TYPES, triggerOf, type TriggerLog } from "../notifications/triggers";

const LOG_NAMES: Record<TriggerLog, string> = { sales: SALES_LOG, catalogue: CATALOGUE_LOG };

export function feedRelayName(log: TriggerLog): string {
  return `notifications.feed.${log}`;
}

/** One log's trigger events as messages of the internal topic (deterministic: a replay repeats them). */
export function triggerMessages(log: TriggerLog, topic: string): RelayMapper {
  const types: readonly string[] = TRIGGER_TYPES[log];
  return async (commits) =>
    commits
      .flatMap((commit) => eventsOf(commit))
      .filter((event) => types.includes(event.type))
      .map((event): OutboundMessage => ({
        topic,
        key: event.stream,
        value: JSON.stringify(triggerOf(log, event)),
        headers: { "content-type": "application/json", "event-id": event.id, "event-type": event.type },
      }));
}

export interface NotificationFeedOptions {
  kafka: Kafka;
  store: Store;
  logs: Record<TriggerLog, EventLog>;
  topic: string;
  partitions: number;
  owner: string;
  logger: RunnerLogger;
  tuning?: ConstructorParameters<typeof KafkaRelay>[0]["tuning"];
  /** After the broker acknowledged a batch (tests). */
  onDelivered?(log: TriggerLog, commits: readonly Commit[], messages: readonly OutboundMessage[]): void;
}

/** The two relays (sales and catalogue) feeding the internal topic. */
export class NotificationFeed {
  readonly relays = new Map<TriggerLog, KafkaRelay>();

  constructor(options: NotificationFeedOptions) {
    for (const log of Object.keys(TRIGGER_TYPES) as TriggerLog[]) {
      this.relays.set(
        log,
        new KafkaRelay({
          name: feedRelayName(log),
          kafka: options.kafka,
          store: options.store,
          log: options.logs[log],
          topics: [options.topic],
          partitions: options.partitions,
          map: triggerMessages(log, options.topic),
          owner: options.owner,
          logger: options.logger,
          tuning: options.tuning,
          onDelivered: options.onDelivered && ((commits, messages) => options.onDelivered!(log, commits, messages)),
        }),
      );
    }
  }

  async start(): Promise<void> {
    for (const relay of this.relays.values()) await relay.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.relays.values()].map((relay) => relay.stop()));
  }

  /** Something was appended to a log (by its name). */
  wake(logName: string): void {
    for (const [log, relay] of this.relays) if (LOG_NAMES[log] === logName) relay.wake();
  }

  async status(): Promise<RunnerStatus[]> {
    return Promise.all([...this.relays.values()].map((relay) => relay.status()));
  }
}

/**
 * Starts the feed when our own Kafka is configured (KAFKA_BROKERS), registered with this node's
 * runners like the partner relays (REPL `projections`, /api/ready, wake-ups). Null otherwise:
 * the notification service then follows the logs itself.
 */
export async function startNotificationFeed(rt: Runtime, logger: RunnerLogger): Promise<NotificationFeed | null> {
  const connection = rt.config.kafka?.connection;
  if (!connection) return null;
  const { topic, partitions } = rt.config.notifications;
  const feed = new NotificationFeed({
    kafka: createKafka(connection, logger as KafkaLogger),
    store: rt.store,
    logs: { sales: rt.store.log(SALES_LOG), catalogue: rt.store.log(CATALOGUE_LOG) },
    topic,
    partitions,
    owner: rt.instanceId,
    logger,
    tuning: rt.config.runners,
  });
  for (const [log, relay] of feed.relays) {
    rt.runners.add({
      name: relay.name,
      kind: "bridge",
      status: async () => [await relay.status()],
      resume: () => relay.resume(),
      wake: (logName) => logName === LOG_NAMES[log] && relay.wake(),
    });
  }
  await feed.start();
  logger.info(`notification feed: publishing ${Object.values(TRIGGER_TYPES).flat().join(", ")} to ${topic}`);
  return feed;
}

export function stopNotificationFeed(rt: Runtime, feed: NotificationFeed): Promise<void> {
  for (const relay of feed.relays.values()) rt.runners.remove(relay.name);
  return feed.stop();
}
