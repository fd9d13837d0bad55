/**
 * What makes a notification: events of the sales and catalogue logs. In the quick start the
 * notification service follows the logs itself; with Kafka, the ticket service publishes
 * these events to the internal topic (keyed by their stream: the order, or the event) and
 * the notification nodes consume it as one group. Either way they reach the same planner.
 */
import type { RecordedEvent } from "../../lib/eventlog/types";

export const TRIGGER_TYPES = {
  sales: ["TicketsIssued", "OrderExpired", "OrderCancelled", "TicketsRefunded"],
  catalogue: ["EventUpdated"],
} as const;
export type TriggerLog = keyof typeof TRIGGER_TYPES;

/** The wire form on the internal topic (JSON), and what the planner takes. */
export interface NotificationTrigger {
  v: 1;
  log: TriggerLog;
  /** The log event's id: the planner's notification ids derive from it, so a repeat changes nothing. */
  eventId: string;
  type: string;
  /** order-<id> or event-<id>: the Kafka key. */
  stream: string;
  pos: number;
  at: number;
  data: Record<string, unknown>;
}

export function triggerOf(log: TriggerLog, event: RecordedEvent): NotificationTrigger {
  return {
    v: 1,
    log,
    eventId: event.id,
    type: event.type,
    stream: event.stream,
    pos: event.pos,
    at: event.at,
    data: event.data as Record<string, unknown>,
  };
}

export class MalformedTrigger extends Error {
  override readonly name = "MalformedTrigger";
}

/** Reads a message of the internal topic; anything else throws MalformedTrigger with the reason (→ dead letter). */
export function parseTrigger(value: Buffer | string | null): NotificationTrigger {
  if (value === null) throw new MalformedTrigger("empty message");
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    throw new MalformedTrigger("not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new MalformedTrigger("not an object");
  const t = parsed as Partial<NotificationTrigger>;
  if (t.v !== 1) throw new MalformedTrigger(`unknown version ${JSON.stringify(t.v)}`);
  if (t.log !== "sales" && t.log !== "catalogue") throw new MalformedTrigger("log must be sales or catalogue");
  const types: readonly string[] = TRIGGER_TYPES[t.log];
  if (typeof t.type !== "string" || !types.includes(t.type))
    throw new MalformedTrigger(`type ${JSON.stringify(t.type)} is not a trigger of ${t.log}`);
  for (const field of ["eventId", "stream"] as const) {
    if (typeof t[field] !== "string" || !t[field]) throw new MalformedTrigger(`${field} must be a non-empty string`);
  }
  for (const field of ["pos", "at"] as const) {
    if (!Number.isSafeInteger(t[field]) || (t[field] as number) < 0)
      throw new MalformedTrigger(`${field} must be a non-negative integer`);
  }
  if (typeof t.data !== "object" || t.data === null || Array.isArray(t.data))
    throw new MalformedTrigger("data must be an object");
  if (typeof (t.data as { id?: unknown }).id !== "string") throw new MalformedTrigger("data.id must be a string");
  return t as NotificationTrigger;
}
