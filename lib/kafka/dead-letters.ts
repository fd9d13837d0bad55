import type { IHeaders, KafkaMessage } from "kafkajs";

/** The headers a dead letter carries besides the original ones: why, and where it came from. */
export const DLQ_HEADERS = ["dlq-reason", "dlq-topic", "dlq-partition", "dlq-offset", "dlq-at"] as const;

/** The original headers without the dead-letter ones (a message dead-lettered twice keeps only the last reason). */
export function withoutDlqHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !(DLQ_HEADERS as readonly string[]).includes(k)));
}

/** The headers of a message on its way to a dead-letter topic. */
export function deadLetterHeaders(
  message: Pick<KafkaMessage, "headers" | "offset">,
  where: { topic: string; partition: number; reason: string; at: string },
): IHeaders {
  return {
    ...withoutDlqHeaders(message.headers),
    "dlq-reason": where.reason,
    "dlq-topic": where.topic,
    "dlq-partition": String(where.partition),
    "dlq-offset": message.offset,
    "dlq-at": where.at,
  };
}

/** A header's text (the first value when it repeats); "" when absent. */
export function headerText(value: IHeaders[string]): string {
  if (value === undefined) return "";
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? "" : first.toString();
}
