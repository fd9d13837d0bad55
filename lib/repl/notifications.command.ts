import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import { table } from "./projections.command";

interface NotificationsArgs {
  action?: string;
  id?: string;
}

/** What `notifications.stats` answers (services/notifications/stats.ts). */
interface Stats {
  nodeQueue: number;
  requested: number;
  retrying: number;
  sending: number;
  lagMs: number;
  lastHour: Record<string, { sent: number; failed: number }>;
}

const USAGE = "usage: notifications | notifications resend <id>";
/** The REPL acts as an operator: the resend is recorded as theirs. */
const OPERATOR = { sub: "repl", roles: ["admin"] };

/** `notifications` (the backlog, the lag, the last hour per channel) and `notifications resend <id>`. */
export async function notificationsCommand(broker: ServiceBroker, args: NotificationsArgs): Promise<string> {
  if (!args.action || args.action === "status") {
    const s = await broker.call<Stats, Record<string, never>>("notifications.stats", {});
    const rows = Object.entries(s.lastHour).map(([channel, n]) => [channel, String(n.sent), String(n.failed)]);
    return [
      `queue: ${s.requested} requested, ${s.retrying} retrying, ${s.sending} sending (${s.nodeQueue} on the node that answered)`,
      `lag: ${(s.lagMs / 1000).toFixed(1)} s (the oldest notification due now has waited this long)`,
      "last hour:",
      table(["CHANNEL", "SENT", "FAILED"], rows),
    ].join("\n");
  }
  if (args.action === "resend") {
    if (!args.id) return USAGE;
    const doc = await broker.call<{ status: string }, { id: string }>(
      "notifications.resend",
      { id: args.id },
      { meta: { user: OPERATOR } },
    );
    return `notification ${args.id} is ${doc.status} again: it goes out shortly`;
  }
  return `unknown action ${args.action}: ${USAGE}`;
}

export const notificationsCommands: ReplCustomCommand[] = [
  {
    command: "notifications [action] [id]",
    description: "The notification backlog, its lag and what was sent or failed per channel in the last hour; 'resend <id>'",
    async action(broker: ServiceBroker, args: unknown) {
      try {
        console.log(await notificationsCommand(broker, args as NotificationsArgs));
      } catch (err) {
        console.log(`notifications: ${(err as Error).message}`);
      }
    },
  },
];
