import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import type { NodeRunners } from "../../services/runners/runners.service";

interface ReplArgs {
  action?: string;
  name?: string;
  options: Record<string, unknown>;
}

/** The nodes that host a service, in a stable order. */
export function nodesHosting(broker: ServiceBroker, service: string): string[] {
  const services = broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as Array<{
    name: string;
    nodeID: string;
  }>;
  return [...new Set(services.filter((s) => s.name === service).map((s) => s.nodeID))].sort();
}

/** Asks every node that hosts runners for their state. */
export async function collectRunners(broker: ServiceBroker): Promise<NodeRunners[]> {
  const nodeIDs = nodesHosting(broker, "runners");
  return Promise.all(nodeIDs.map((nodeID) => broker.call<NodeRunners, Record<string, never>>("runners.status", {}, { nodeID })));
}

export function formatRunners(nodes: NodeRunners[]): string {
  const rows = nodes.flatMap((node) =>
    node.runners.map((r) => [
      node.nodeID,
      r.name,
      r.state,
      String(r.pos),
      String(r.head),
      String(r.lag),
      r.fault
        ? `halted at ${r.fault.pos}: ${r.fault.message}`
        : (r.lastError ?? (r.parked?.count ? `${r.parked.count} parked key(s): see 'parked'` : "")),
    ]),
  );
  if (rows.length === 0) return "no runners are running in this cluster";
  return table(["NODE", "RUNNER", "STATE", "POSITION", "HEAD", "LAG", "PROBLEM"], rows);
}

/** Fixed-width columns for the REPL. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `projections`, `projections rebuild <name>`, `projections resume <name>`. */
export async function projectionsCommand(broker: ServiceBroker, args: Pick<ReplArgs, "action" | "name">): Promise<string> {
  const nodes = await collectRunners(broker);
  if (!args.action || args.action === "status") return formatRunners(nodes);
  if (!args.name) return `usage: projections ${args.action} <name>`;
  const hosts = nodes.filter((n) => n.runners.some((r) => r.runner === args.name)).map((n) => n.nodeID);
  if (hosts.length === 0)
    return `no node hosts ${args.name}; known: ${[...new Set(nodes.flatMap((n) => n.runners.map((r) => r.runner)))].join(", ")}`;
  if (args.action === "rebuild") {
    const result = await broker.call<{ generation: number }, { name: string }>(
      "runners.rebuild",
      { name: args.name },
      { nodeID: hosts[0] },
    );
    return `rebuilding ${args.name} into generation ${result.generation}; queries switch to it once it has caught up`;
  }
  if (args.action === "resume") {
    await Promise.all(hosts.map((nodeID) => broker.call("runners.resume", { name: args.name }, { nodeID })));
    return `resumed ${args.name} on ${hosts.join(", ")}`;
  }
  return `unknown action ${args.action}: use status, rebuild or resume`;
}

export const replCommands: ReplCustomCommand[] = [
  {
    command: "projections [action] [name]",
    description: "Runners of the cluster (position, lag, state); 'rebuild <name>' or 'resume <name>'",
    // moleculer's typings say string[]; moleculer-repl passes commander's parsed arguments.
    async action(broker: ServiceBroker, args: unknown) {
      console.log(await projectionsCommand(broker, args as ReplArgs));
    },
  },
];
