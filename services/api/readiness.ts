import type { Service } from "moleculer";
import { describeParked } from "../../lib/eventlog/parked-keys";
import type { NodeRunners } from "../runners/runners.service";

export interface ReadyReport {
  /** degraded: clients are served, but a partner stream is stuck (see `bridge`) or a key is parked. */
  status: "ready" | "degraded" | "not_ready";
  transporter: { connected: boolean };
  nodes: NodeRunners[];
  problems: string[];
  /** Trouble of the Kafka bridge (a partner's broker refusing us, an order waiting for its event). */
  bridge: string[];
  /** Keys a partitioned subscription set aside (see `parked`): the rest flows, so only degraded. */
  parked: string[];
}

/**
 * Ready = every local service has started, the transporter is up, every node reaches its
 * store, and no runner is halted, still starting, or more than `maxLag` commits behind.
 */
export async function readiness(svc: Service, maxLag: number): Promise<ReadyReport> {
  const broker = svc.broker;
  const transit = (broker as unknown as { transit?: { connected: boolean } }).transit;
  const connected = transit ? transit.connected : true;
  const endpoints = broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as Array<{
    name: string;
    nodeID: string;
  }>;
  const nodeIDs = [...new Set(endpoints.filter((s) => s.name === "runners").map((s) => s.nodeID))];
  const problems: string[] = [];
  if (!connected) problems.push("transporter is disconnected");
  if (!broker.started) problems.push(`node ${broker.nodeID} is still starting its services`);
  const nodes = await Promise.all(
    nodeIDs.map((nodeID) =>
      broker.call<NodeRunners, Record<string, never>>("runners.status", {}, { nodeID, timeout: 3000 }).catch((err: Error) => {
        problems.push(`node ${nodeID} did not answer: ${err.message}`);
        return null;
      }),
    ),
  );
  const answered = nodes.filter((n): n is NodeRunners => n !== null);
  const bridge: string[] = [];
  // Every node hosting a subscription reads the same parked keys from the store: list them once.
  const parked = new Set<string>();
  for (const node of answered) {
    if (!node.store.ok) problems.push(`node ${node.nodeID}: ${node.store.kind} store unreachable: ${node.store.error}`);
    if (node.notStarted.length) problems.push(`node ${node.nodeID}: not started: ${node.notStarted.join(", ")}`);
    for (const r of node.runners) {
      const list = r.kind === "bridge" ? bridge : problems;
      if (r.state === "halted") list.push(`runner ${r.name} on ${node.nodeID} halted at ${r.fault?.pos}: ${r.fault?.message}`);
      if (r.state === "starting") list.push(`runner ${r.name} on ${node.nodeID} is starting`);
      // A standby runner reads nothing: its lease holder (on another node) reports the real lag.
      if (r.state !== "standby" && r.lag > maxLag)
        list.push(`runner ${r.name} on ${node.nodeID} is ${r.lag} commits behind (READY_MAX_LAG ${maxLag})`);
      if (r.lastError) list.push(`runner ${r.name} on ${node.nodeID}: ${r.lastError}`);
      for (const line of r.parked ? describeParked(r.name, r.parked) : []) parked.add(line);
    }
  }
  const status = problems.length ? "not_ready" : bridge.length || parked.size ? "degraded" : "ready";
  return { status, transporter: { connected }, nodes: answered, problems, bridge, parked: [...parked] };
}
