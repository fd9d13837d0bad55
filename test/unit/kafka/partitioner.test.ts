/**
 * The relay's partitioner must put every key on the partition Java clients and kafkajs'
 * DefaultPartitioner choose, or a key written before a change would continue elsewhere and lose
 * its order.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Partitioners, type PartitionMetadata } from "kafkajs";
import { JavaCompatiblePartitioner, murmur2 } from "../../../lib/kafka/relay";

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe("Java-compatible partitioner", () => {
  test("murmur2 gives what Kafka's Utils.murmur2 (4.3.1) gives", () => {
    expect(murmur2(Buffer.from("21"))).toBe(-973932308);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
    expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(Buffer.from("abc"))).toBe(479470107);
  });

  test("every key lands on the partition kafkajs' DefaultPartitioner chooses", () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 20_000; i++) {
      const key = i % 2 ? randomUUID() : randomBytes(i % 67);
      const partitionMetadata = metadata(1 + (i % 12));
      const args = { topic: "t", partitionMetadata, message: { key, value: "v" } };
      expect(ours(args)).toBe(theirs(args));
    }
  });

  test("an explicit partition wins; a message without a key still gets a partition", () => {
    const ours = JavaCompatiblePartitioner();
    expect(ours({ topic: "t", partitionMetadata: metadata(3), message: { key: "k", value: "v", partition: 2 } })).toBe(2);
    const p = ours({ topic: "t", partitionMetadata: metadata(3), message: { value: "v" } });
    expect([0, 1, 2]).toContain(p);
  });
});
