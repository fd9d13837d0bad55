/**
 * The notification feed's transport in tests: the publisher (NotificationFeed) over a store's
 * logs, consumers with a recording handler, what the logs say must arrive, and the checks
 * (everything arrived; per key, nothing went backwards).
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type IHeaders } from "kafkajs";
import type { RunnerLogger } from "../../lib/eventlog/runner";
import { eventsOf, type EventLog } from "../../lib/eventlog/types";
import type { Store } from "../../lib/store/types";
import { FeedConsumer, type TriggerHandler } from "../../services/notifications/feed-consumer";
import { TRIGGER_TYPES, type NotificationTrigger, type TriggerLog } from "../../services/notifications/triggers";
import { NotificationFeed } from "../../services/tickets/notification-feed";

export interface FeedNames {
  topic: string;
  deadLetterTopic: string;
  groupId: string;
}

/** Topic and group names of a test's own: the shared broker serves every suite. */
export function feedNames(prefix: string): FeedNames {
  const run = randomUUID().slice(0, 8);
  return { topic: `${prefix}.${run}`, deadLetterTopic: `${prefix}.${run}.dlq`, groupId: `${prefix}-${run}` };
}

export const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 200 } });
}

export function startFeed(store: Store, brokers: string[], names: FeedNames, partitions = 6): NotificationFeed {
  return new NotificationFeed({
    kafka: kafkaClient(brokers, "feed-test-publisher"),
    store,
    logs: { sales: store.log("sales"), catalogue: store.log("catalogue") },
    topic: names.topic,
    partitions,
    owner: `feed-test-${randomUUID().slice(0, 6)}`,
    logger: quietLogger,
    tuning: { pollMs: 100, batchSize: 100 },
  });
}

export interface Handled {
  eventId: string;
  stream: string;
  pos: number;
  by: string;
}

export function feedConsumer(
  brokers: string[],
  names: FeedNames,
  handle: TriggerHandler,
  options: { sessionTimeoutMs?: number; partitions?: number; logger?: RunnerLogger } = {},
): FeedConsumer {
  return new FeedConsumer({
    kafka: kafkaClient(brokers, "feed-test-consumer"),
    ...names,
    partitions: options.partitions ?? 6,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    handle,
    owner: "feed-test",
    logger: options.logger ?? quietLogger,
    retryBaseMs: 50,
    maxRetryDelayMs: 1_000,
  });
}

/** A handler that records every trigger it finished, as `by`. */
export function recorder(by: string, into: Handled[], before?: (t: NotificationTrigger) => Promise<void>): TriggerHandler {
  return async (t) => {
    await before?.(t);
    into.push({ eventId: t.eventId, stream: t.stream, pos: t.pos, by });
  };
}

/** Every trigger event the logs hold: what the consumers must hand to the planner. */
export async function expectedTriggers(
  logs: Record<TriggerLog, EventLog>,
): Promise<Map<string, { stream: string; pos: number }>> {
  const out = new Map<string, { stream: string; pos: number }>();
  for (const [log, eventLog] of Object.entries(logs) as [TriggerLog, EventLog][]) {
    const types: readonly string[] = TRIGGER_TYPES[log];
    const commits = await eventLog.readFrom(0, 1_000_000);
    for (const event of commits.flatMap((c) => eventsOf(c)))
      if (types.includes(event.type)) out.set(event.id, { stream: event.stream, pos: event.pos });
  }
  return out;
}

/** Streams where a trigger first seen came after a later one of the same stream (repeats allowed). */
export function backwards(handled: readonly Handled[]): string[] {
  const seen = new Map<string, Set<number>>();
  const wrong: string[] = [];
  for (const h of handled) {
    const positions = seen.get(h.stream) ?? new Set<number>();
    if (!positions.has(h.pos) && positions.size > 0 && h.pos < Math.max(...positions))
      wrong.push(`${h.stream}: ${h.pos} after ${Math.max(...positions)}`);
    positions.add(h.pos);
    seen.set(h.stream, positions);
  }
  return wrong;
}

/** Appends `count` triggers to each of `streams` (raw events: the transport does not read their data). */
export async function appendTriggers(log: EventLog, streams: string[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const stream of streams) {
      await log.append({
        stream,
        expectedSeq: i,
        events: [{ type: i === 0 ? "TicketsIssued" : "TicketsRefunded", data: { id: stream.replace(/^order-/, ""), n: i } }],
      });
    }
  }
}

export interface DeadLetterSeen {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function texts(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
}

/** The first `count` messages of a dead-letter topic, read by a throw-away group. */
export async function readDeadLetters(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<DeadLetterSeen[]> {
  const consumer = kafkaClient(brokers, "feed-test-dlq").consumer({
    groupId: `dlq-reader-${randomUUID()}`,
    maxWaitTimeInMs: 200,
  });
  const seen: DeadLetterSeen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${seen.length} of ${count} dead letters arrived in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: texts(message.headers),
          });
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
