import { loadConfig } from "../../../lib/config/config";
import type { Commit } from "../../../lib/eventlog/types";
import { safeReason } from "../../../services/notifications/feed-consumer";
import { parseTrigger } from "../../../services/notifications/triggers";
import { triggerMessages } from "../../../services/tickets/notification-feed";

function commit(pos: number, stream: string, types: string[]): Commit {
  return {
    _id: `${stream}:${pos}`,
    stream,
    seq: pos,
    pos,
    at: 1_700_000_000_000 + pos,
    meta: {},
    events: types.map((type, i) => ({ id: `e${pos}.${i}`, type, data: { id: stream.slice(6) } })),
  };
}

describe("notification feed", () => {
  it("publishes only a log's trigger events, keyed by their stream, as triggers the consumer reads back", async () => {
    const map = triggerMessages("sales", "notif");
    const messages = await map([
      commit(1, "order-a", ["OrderPlaced"]),
      commit(2, "order-a", ["PaymentAttached", "TicketsIssued"]),
      commit(3, "order-b", ["OrderExpired"]),
    ]);
    expect(messages.map((m) => [m.key, m.headers["event-id"]])).toEqual([
      ["order-a", "e2.1"],
      ["order-b", "e3.0"],
    ]);
    expect(messages.every((m) => m.topic === "notif")).toBe(true);
    expect(parseTrigger(messages[0].value)).toMatchObject({ v: 1, log: "sales", eventId: "e2.1", type: "TicketsIssued", pos: 2 });
    expect(await triggerMessages("catalogue", "notif")([commit(4, "event-x", ["EventUpdated", "EventCreated"])])).toHaveLength(1);
  });

  it("names its topics, group, partitions and session from the environment, refusing what the broker would", () => {
    expect(loadConfig({}).notifications).toMatchObject({
      topic: "ticketing.notifications",
      deadLetterTopic: "ticketing.notifications.dlq",
      consumerGroup: "ticketing-notifications",
      partitions: 6,
      sessionTimeoutMs: 15_000,
    });
    expect(loadConfig({ NOTIFICATIONS_TOPIC: "n", NOTIFICATIONS_PARTITIONS: "12" }).notifications).toMatchObject({
      topic: "n",
      deadLetterTopic: "n.dlq",
      partitions: 12,
    });
    expect(() => loadConfig({ NOTIFICATIONS_PARTITIONS: "0" })).toThrow(/NOTIFICATIONS_PARTITIONS/);
    expect(() => loadConfig({ NOTIFICATIONS_SESSION_TIMEOUT_MS: "1000" })).toThrow(
      /NOTIFICATIONS_SESSION_TIMEOUT_MS must be at least 6000/,
    );
  });

  it("logs a handler's failure without the addresses or phone numbers it may carry", () => {
    const err = Object.assign(new Error("cannot reach anna@example.com or +7 900 123-45-67 for order o1"), {
      name: "MoleculerError",
      type: "SERVICE_NOT_AVAILABLE",
    });
    expect(safeReason(err)).toBe("MoleculerError: cannot reach <address> or <number> for order o1 [SERVICE_NOT_AVAILABLE]");
  });
});
