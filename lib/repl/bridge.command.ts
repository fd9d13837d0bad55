import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import type { DeadLetter, InboundStatus } from "../../services/kafka-relay/partner-inbound";
import type { RunnerStatus } from "../eventlog/runner";
import { nodesHosting, table } from "./projections.command";

interface BridgeStatus {
  partners: Array<{
    id: string;
    relays: Array<RunnerStatus & { source: string; topics: string[] }>;
    inbound?: InboundStatus | null;
  }>;
}

interface DeadLetters {
  partner: string;
  deadLetters: DeadLetter[];
}

interface BridgeArgs {
  action?: string;
  partner?: string;
  target?: string;
  from?: string;
}

/**
 * `bridge`, `bridge replay <partner> <topic> <position|time>`, `bridge resync <partner> <stream>`,
 * `bridge dlq <partner>`, `bridge redrive <partner> [dead-letter offset]`.
 */
export async function bridgeCommand(broker: ServiceBroker, args: BridgeArgs): Promise<string> {
  const nodes = nodesHosting(broker, "kafka-relay");
  if (nodes.length === 0) return "no node runs the kafka-relay service";
  if (!args.action || args.action === "status") {
    const answers = await Promise.all(
      nodes.map(async (nodeID) => ({
        nodeID,
        status: await broker.call<BridgeStatus, Record<string, never>>("kafka-relay.status", {}, { nodeID }),
      })),
    );
    const rows = answers.flatMap(({ nodeID, status }) =>
      status.partners.flatMap((p) => [
        ...p.relays.map((r) => [
          nodeID,
          p.id,
          r.name,
          r.topics.join(","),
          r.state,
          String(r.pos),
          String(r.lag),
          r.fault ? `halted at ${r.fault.pos}: ${r.fault.message}` : (r.lastError ?? ""),
        ]),
        // The consumer of the partner's own streams: messages handled instead of a log position.
        ...(p.inbound ? [inboundRow(nodeID, p.id, p.inbound)] : []),
      ]),
    );
    if (rows.length === 0) return "the bridge serves no partner (KAFKA_BROKERS and KAFKA_PARTNERS_FILE are unset)";
    return table(["NODE", "PARTNER", "RELAY", "TOPICS", "STATE", "POSITION", "LAG", "PROBLEM"], rows);
  }
  // The relay that holds the lease answers; any node can start a replay or a resync.
  if (args.action === "replay") {
    if (!args.partner || !args.target || !args.from) return "usage: bridge replay <partner> <topic> <position|ISO time>";
    const result = await broker.call("kafka-relay.replay", { partner: args.partner, topic: args.target, from: args.from });
    return JSON.stringify(result);
  }
  if (args.action === "resync") {
    if (!args.partner || !args.target) return "usage: bridge resync <partner> <organizer-id|event-id|order-id stream>";
    const result = await broker.call("kafka-relay.resync", { partner: args.partner, stream: args.target });
    return JSON.stringify(result);
  }
  if (args.action === "dlq") {
    if (!args.partner) return "usage: bridge dlq <partner>";
    const { deadLetters } = await broker.call<DeadLetters, { partner: string }>("kafka-relay.deadLetters", {
      partner: args.partner,
    });
    if (deadLetters.length === 0) return `no dead letters for partner ${args.partner}`;
    return table(
      ["OFFSET", "FROM", "REASON", "AT", "REDRIVEN"],
      deadLetters.map((d) => [
        d.partition === 0 ? d.offset : `${d.partition}:${d.offset}`,
        `${d.topic}/${d.originalPartition}@${d.originalOffset}`,
        d.reason,
        d.at,
        d.redrivenAt ?? "",
      ]),
    );
  }
  if (args.action === "redrive") {
    if (!args.partner) return "usage: bridge redrive <partner> [dead-letter offset]";
    const result = await broker.call("kafka-relay.redrive", {
      partner: args.partner,
      ...(args.target === undefined ? {} : { offset: String(args.target) }),
    });
    return JSON.stringify(result);
  }
  return `unknown action ${args.action}: use status, replay, resync, dlq or redrive`;
}

function inboundRow(nodeID: string, partner: string, inbound: InboundStatus): string[] {
  const c = inbound.counts;
  const problem =
    inbound.lastError ??
    inbound.waiting ??
    (inbound.lastDeadLetter ? `last dead letter (${inbound.lastDeadLetter.topic}): ${inbound.lastDeadLetter.reason}` : "");
  return [
    nodeID,
    partner,
    inbound.name,
    `${Object.values(inbound.topics).join(",")} → ${inbound.deadLetterTopic}`,
    inbound.state,
    `${c.applied} applied, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.deadLettered} dead`,
    "-",
    problem,
  ];
}

export const bridgeCommands: ReplCustomCommand[] = [
  {
    command: "bridge [action] [partner] [target] [from]",
    description:
      "Kafka bridge per partner (position, lag, last error); 'replay <partner> <topic> <pos|time>', 'resync <partner> <stream>', " +
      "'dlq <partner>' (dead letters of its inbound streams), 'redrive <partner> [offset]' (publish them again)",
    async action(broker: ServiceBroker, args: unknown) {
      try {
        console.log(await bridgeCommand(broker, args as BridgeArgs));
      } catch (err) {
        console.log(`bridge: ${(err as Error).message}`);
      }
    },
  },
];
