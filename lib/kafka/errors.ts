import type { LogEntry } from "kafkajs";

/**
 * kafkajs wraps the broker's answer: a KafkaJSNumberOfRetriesExceeded or KafkaJSNonRetriableError
 * carries the KafkaJSProtocolError that says what the broker refused (its `type`, e.g.
 * COORDINATOR_LOAD_IN_PROGRESS) in `cause` or `originalError`. Our logs and statuses name the
 * whole chain, or the reason an operator needs is lost.
 */
interface KafkaErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  cause?: unknown;
  originalError?: unknown;
  broker?: unknown;
}

function describeOne(err: KafkaErrorLike): string {
  const name = typeof err.name === "string" && err.name !== "Error" ? `${err.name}: ` : "";
  const message = typeof err.message === "string" ? err.message : String(err);
  const type = typeof err.type === "string" ? ` [${err.type}]` : "";
  const broker = typeof err.broker === "string" ? ` (broker ${err.broker})` : "";
  return `${name}${message}${type}${broker}`;
}

/** "KafkaJSNumberOfRetriesExceeded: … ← KafkaJSProtocolError: The coordinator is loading … [COORDINATOR_LOAD_IN_PROGRESS]". */
export function kafkaErrorText(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; typeof e === "object" && e !== null && !seen.has(e) && parts.length < 5;) {
    seen.add(e);
    const link = e as KafkaErrorLike;
    parts.push(describeOne(link));
    e = link.cause ?? link.originalError;
  }
  return parts.join(" ← ");
}

/** What kafkajs adds to a log line beyond its message; the stack stays out (one line per entry). */
const CONTEXT = ["broker", "groupId", "topic", "partition", "retryCount", "retryTime"] as const;

/**
 * One kafkajs log entry as a line of ours: the message, the broker's error (kafkajs puts the
 * reason there, e.g. "Response GroupCoordinator" + error "The coordinator is loading…") and where.
 */
export function kafkaLogLine(entry: Pick<LogEntry, "namespace" | "log">): string {
  const log = entry.log as LogEntry["log"] & Record<string, unknown>;
  const error = log.error === undefined ? "" : `: ${typeof log.error === "string" ? log.error : kafkaErrorText(log.error)}`;
  const context = CONTEXT.filter((k) => log[k] !== undefined && log[k] !== null).map((k) => `${k}=${String(log[k])}`);
  return `kafka ${entry.namespace}: ${log.message}${error}${context.length ? ` (${context.join(", ")})` : ""}`;
}
