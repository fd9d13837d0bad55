import type { KafkaMessage } from "kafkajs";

/** A message set aside because what it names (an event, an order) has not arrived yet. */
export interface HeldMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** When it reached us: its reference wait counts from here. */
  since: number;
  /** Why its last attempt failed; null until it was tried (it queued behind its key). */
  reason: string | null;
  /** Tries so far, and when the next one is due (sooner when something was applied meanwhile). */
  attempts: number;
  nextAt: number;
}

function partitionOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Messages waiting for a reference, per key, and how far each partition may be committed.
 *
 * A message naming something not imported yet is set aside under its key (topic + Kafka key;
 * a message without a key stands for its whole partition), and every later message of that key
 * queues behind it, so one key's order never changes; the other keys, partitions and topics go
 * on. The offset committed for a partition never passes its oldest held message: after a crash
 * or a rebalance the broker hands it (and what followed it, which is applied again harmlessly)
 * to whoever consumes the partition next, so nothing set aside is ever lost.
 */
export class HeldMessages {
  private readonly queues = new Map<string, HeldMessage[]>();
  /** The next offset after the last message handed to us, per partition. */
  private readonly next = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();

  keyOf(topic: string, partition: number, key: Buffer | null): string {
    return key === null ? `${partitionOf(topic, partition)}\u0000` : `${topic}\u0000k\u0000${key.toString("base64")}`;
  }

  get size(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  /** The queue of a key, when something of that key is held. */
  queueOf(key: string): HeldMessage[] | undefined {
    return this.queues.get(key);
  }

  /** Sets a message aside, first of its key or behind the ones already held. */
  hold(key: string, held: HeldMessage): void {
    const queue = this.queues.get(key);
    if (queue) queue.push(held);
    else this.queues.set(key, [held]);
  }

  /** The keys whose first message waits, oldest first (as they were set aside). */
  keys(): string[] {
    return [...this.queues.keys()];
  }

  /** Drops a key's first message (applied or dead-lettered); the key is free once its queue is empty. */
  shift(key: string): void {
    const queue = this.queues.get(key);
    queue?.shift();
    if (queue && queue.length === 0) this.queues.delete(key);
  }

  /** The oldest message held, for the status. */
  oldest(): HeldMessage | null {
    let oldest: HeldMessage | null = null;
    for (const queue of this.queues.values()) if (!oldest || queue[0].since < oldest.since) oldest = queue[0];
    return oldest;
  }

  /** A message of this partition was handled, held or queued: the partition has moved past it. */
  passed(topic: string, partition: number, offset: string): void {
    this.next.set(partitionOf(topic, partition), BigInt(offset) + 1n);
  }

  /**
   * Offsets that may be committed now and were not yet: per partition, the oldest held message
   * of it, or the next after the last one handed to us when none is held.
   */
  commitable(): Array<{ topic: string; partition: number; offset: string }> {
    const safe = new Map(this.next);
    for (const queue of this.queues.values()) {
      for (const held of queue) {
        const at = partitionOf(held.topic, held.partition);
        const offset = BigInt(held.message.offset);
        if (offset < (safe.get(at) ?? offset + 1n)) safe.set(at, offset);
      }
    }
    const out = [];
    for (const [at, offset] of safe) {
      if (this.committed.get(at) === offset) continue;
      const [topic, partition] = at.split("\u0000");
      out.push({ topic, partition: Number(partition), offset: offset.toString() });
    }
    return out;
  }

  /** The broker took these offsets. */
  markCommitted(offsets: Array<{ topic: string; partition: number; offset: string }>): void {
    for (const o of offsets) this.committed.set(partitionOf(o.topic, o.partition), BigInt(o.offset));
  }

  /**
   * Forgets everything: after a rebalance the broker delivers again from the committed offsets,
   * which never passed a held message, so what was held comes back to whoever owns it now.
   */
  clear(): void {
    this.queues.clear();
    this.next.clear();
    this.committed.clear();
  }
}
