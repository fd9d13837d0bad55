import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import type { SubscriptionParked } from "../eventlog/parked-keys";
import { nodesHosting, table } from "./projections.command";

interface ParkedArgs {
  action?: string;
  subscription?: string;
  key?: string;
  /** commander's variadic last argument: the words of the reason. */
  reason?: string[] | string;
}

const USAGE = "usage: parked | parked retry <subscription> <key> | parked skip <subscription> <key> <reason...>";

/** The parked keys of every partitioned subscription; any node hosting one answers for the store. */
async function collectParked(broker: ServiceBroker): Promise<Array<SubscriptionParked & { nodeID: string }>> {
  const bySubscription = new Map<string, SubscriptionParked & { nodeID: string }>();
  for (const nodeID of nodesHosting(broker, "runners")) {
    const answer = await broker.call<SubscriptionParked[], Record<string, never>>("runners.parked", {}, { nodeID });
    for (const s of answer) if (!bySubscription.has(s.subscription)) bySubscription.set(s.subscription, { ...s, nodeID });
  }
  return [...bySubscription.values()].sort((a, b) => a.subscription.localeCompare(b.subscription));
}

/** `parked`, `parked retry <subscription> <key>`, `parked skip <subscription> <key> <reason...>`. */
export async function parkedCommand(broker: ServiceBroker, args: ParkedArgs): Promise<string> {
  const subscriptions = await collectParked(broker);
  if (!args.action || args.action === "status") {
    const rows = subscriptions.flatMap((s) =>
      s.keys.map((k) => [
        s.subscription,
        k.key,
        String(k.pos),
        String(k.pending),
        String(k.attempts),
        k.nextAttemptAt > 0 ? new Date(k.nextAttemptAt).toISOString() : "now",
        k.lastError,
      ]),
    );
    if (rows.length === 0) return "no parked keys";
    return table(["SUBSCRIPTION", "KEY", "POSITION", "PENDING", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"], rows);
  }
  if (!args.subscription || !args.key) return USAGE;
  const host = subscriptions.find((s) => s.subscription === args.subscription);
  if (!host) {
    const known = subscriptions.map((s) => s.subscription).join(", ") || "none";
    return `no node runs a subscription ${args.subscription} partitioned by key; known: ${known}`;
  }
  const params = { subscription: args.subscription, key: args.key };
  if (args.action === "retry") {
    await broker.call("runners.retryParked", params, { nodeID: host.nodeID });
    return `retrying key ${args.key} of ${args.subscription} now`;
  }
  if (args.action === "skip") {
    const reason = (Array.isArray(args.reason) ? args.reason.join(" ") : (args.reason ?? "")).trim();
    if (!reason) return USAGE;
    const result = await broker.call<{ skipped: { id: string; pos: number }; remaining: number }, Record<string, string>>(
      "runners.skipParked",
      { ...params, reason, actor: "repl" },
      { nodeID: host.nodeID },
    );
    const rest = result.remaining > 0 ? `${result.remaining} event(s) still wait` : "the key is released";
    return `skipped event ${result.skipped.id} at position ${result.skipped.pos} of key ${args.key}; ${rest}`;
  }
  return `unknown action ${args.action}: use status, retry or skip`;
}

/** What moleculer-repl's commander hands to `parse`: the operands, the variadic reason collected. */
interface ParsedCommand {
  processedArgs: [string?, string?, string?, string[]?];
  params?: ParkedArgs;
}

export const parkedCommands: ReplCustomCommand[] = [
  {
    command: "parked [action] [subscription] [key] [reason...]",
    // moleculer-repl's own parser keeps one word per declared argument: a reason has several.
    parse(command: ParsedCommand) {
      const [action, subscription, key, reason] = command.processedArgs;
      command.params = { action, subscription, key, reason };
    },
    description:
      "Keys a partitioned subscription set aside after repeated failures; 'retry <subscription> <key>' tries now, " +
      "'skip <subscription> <key> <reason>' drops the event at its head for good",
    async action(broker: ServiceBroker, args: unknown) {
      try {
        console.log(await parkedCommand(broker, args as ParkedArgs));
      } catch (err) {
        console.log(`parked: ${(err as Error).message}`);
      }
    },
  },
];
