import type { Runtime } from "../../lib/app/runtime";
import type { PartnerConfig } from "../../lib/config/partners";
import type { RunnerLogger } from "../../lib/eventlog/runner";
import { createKafka, type KafkaLogger } from "../../lib/kafka/kafka";
import { PartnerInbound, type InboundCall } from "./partner-inbound";

export type { InboundCall } from "./partner-inbound";

/**
 * Starts consuming a partner's inbound streams, if it has any, and registers the consumer with
 * this node's runners, so `/api/ready` and the REPL's `projections` show a consumer that
 * cannot work. Connecting happens in the background: a broker that is down does not stop the node.
 */
export function startInbound(
  rt: Runtime,
  partner: PartnerConfig,
  call: InboundCall,
  logger: RunnerLogger,
): PartnerInbound | null {
  const { inbound } = partner;
  if (!inbound) return null;
  const consumer = new PartnerInbound({
    partner: { ...partner, inbound },
    kafka: createKafka(partner.connection, logger as KafkaLogger),
    call,
    store: rt.store,
    owner: rt.instanceId,
    logger,
    onLag: consumerLag(rt, partner.id),
  });
  rt.runners.add(consumer.runnerEntry());
  consumer.start();
  const topics = Object.entries(inbound.topics).map(([kind, topic]) => `${kind}←${topic}`);
  logger.info(`partner ${partner.id}: consuming ${topics.join(", ")} (dead letters to ${inbound.deadLetterTopic})`);
  return consumer;
}

/** Per topic, summed over its partitions: a partition's figure is as of its last batch. */
function consumerLag(rt: Runtime, partner: string): (topic: string, partition: number, lag: number) => void {
  const lags = new Map<string, Map<number, number>>();
  return (topic, partition, lag) => {
    let partitions = lags.get(topic);
    if (!partitions) lags.set(topic, (partitions = new Map()));
    partitions.set(partition, lag);
    rt.metrics.kafkaConsumerLag(
      partner,
      topic,
      [...partitions.values()].reduce((sum, n) => sum + n, 0),
    );
  };
}
