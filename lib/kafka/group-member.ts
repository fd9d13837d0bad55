/**
 * What our consumer-group members (the partner bridge's inbound streams, the notification feed)
 * share: connecting in the background until the broker answers, reporting themselves the way
 * runners do, and handing a message to a dead-letter topic until the broker takes it.
 */
import type { Consumer, KafkaMessage, Producer } from "kafkajs";
import type { RunnerLogger, RunnerStatus } from "../eventlog/runner";
import { kafkaErrorText } from "./errors";

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
