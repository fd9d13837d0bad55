/**
 * A notification node's feed consumer in a process of its own, for tests that SIGKILL it: prints
 * `handled {...}` for every trigger its handler finished (stdout to a pipe is synchronous on
 * Linux, so a line printed is a trigger handled) and `partitions [...]` when its assignment changes.
 * Settings: FEED_BROKERS, FEED_TOPIC, FEED_DLQ, FEED_GROUP, FEED_SESSION_MS, FEED_HANDLE_MS (the handler's work).
 */
import { feedConsumer } from "./feed-harness";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const handleMs = Number(process.env.FEED_HANDLE_MS ?? "0");
const consumer = feedConsumer(
  env("FEED_BROKERS").split(","),
  { topic: env("FEED_TOPIC"), deadLetterTopic: env("FEED_DLQ"), groupId: env("FEED_GROUP") },
  async (t) => {
    if (handleMs) await new Promise((resolve) => setTimeout(resolve, handleMs));
    process.stdout.write(`handled ${JSON.stringify({ eventId: t.eventId, stream: t.stream, pos: t.pos })}\n`);
  },
  { sessionTimeoutMs: Number(env("FEED_SESSION_MS")) },
);
consumer.start();
let last = "";
setInterval(() => {
  const now = JSON.stringify(consumer.status().partitions);
  if (now !== last) process.stdout.write(`partitions ${(last = now)}\n`);
}, 100);
process.once("SIGTERM", () => void consumer.stop().then(() => process.exit(0)));
