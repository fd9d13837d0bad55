/**
 * What the inbound consumer sets aside while a reference is missing: per key in order, and the
 * offsets it may commit, never past a held message (so a crash or rebalance loses nothing).
 */
import type { KafkaMessage } from "kafkajs";
import { HeldMessages, type HeldMessage } from "../../../services/kafka-relay/held-messages";

function message(offset: number, key: string | null): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from("x"),
    offset: String(offset),
    timestamp: "0",
    attributes: 0,
    headers: {},
  };
}

function held(topic: string, partition: number, offset: number, key: string | null): HeldMessage {
  return { topic, partition, message: message(offset, key), since: 0, reason: null, attempts: 0, nextAt: 0 };
}

describe("held messages", () => {
  test("a key's later messages queue behind the held one; other keys and partitions are free", () => {
    const h = new HeldMessages();
    const o1 = h.keyOf("orders", 0, Buffer.from("o1"));
    h.hold(o1, held("orders", 0, 5, "o1"));
    h.hold(o1, held("orders", 0, 9, "o1"));
    expect(h.queueOf(o1)!.map((m) => m.message.offset)).toEqual(["5", "9"]);
    expect(h.queueOf(h.keyOf("orders", 0, Buffer.from("o2")))).toBeUndefined();
    // The same key on another topic is another entity's.
    expect(h.queueOf(h.keyOf("refunds", 0, Buffer.from("o1")))).toBeUndefined();
    // Without a key, the partition is the key.
    expect(h.keyOf("orders", 1, null)).not.toBe(h.keyOf("orders", 2, null));
    h.shift(o1);
    expect(h.queueOf(o1)!.map((m) => m.message.offset)).toEqual(["9"]);
    h.shift(o1);
    expect(h.queueOf(o1)).toBeUndefined();
    expect(h.size).toBe(0);
  });

  test("commits never pass the oldest held message of a partition; the others commit all they read", () => {
    const h = new HeldMessages();
    const o1 = h.keyOf("orders", 0, Buffer.from("o1"));
    h.passed("orders", 0, "4");
    h.hold(o1, held("orders", 0, 5, "o1"));
    h.passed("orders", 0, "5");
    for (const offset of ["6", "7", "8"]) h.passed("orders", 0, offset);
    h.passed("events", 1, "41");
    const first = h.commitable();
    expect(first).toEqual([
      { topic: "orders", partition: 0, offset: "5" },
      { topic: "events", partition: 1, offset: "42" },
    ]);
    h.markCommitted(first);
    // Nothing new: nothing to commit again.
    expect(h.commitable()).toEqual([]);
    // The held one is applied: the partition commits everything it read.
    h.shift(o1);
    expect(h.commitable()).toEqual([{ topic: "orders", partition: 0, offset: "9" }]);
  });

  test("after a rebalance everything is forgotten (the broker delivers it again from the last commit)", () => {
    const h = new HeldMessages();
    const key = h.keyOf("orders", 0, null);
    h.hold(key, held("orders", 0, 3, null));
    h.passed("orders", 0, "3");
    h.clear();
    expect(h.size).toBe(0);
    expect(h.commitable()).toEqual([]);
    expect(h.oldest()).toBeNull();
  });
});
