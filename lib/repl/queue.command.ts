import type { ServiceBroker } from "moleculer";
import type { ReplCustomCommand } from "moleculer/src/service-broker";
import { SYSTEM } from "../app/context";
import type { QueueStatus } from "../domain/queue-status";

const USAGE = "usage: queue <eventId> | queue <eventId> rate <admissions per second | auto>";
/** The REPL is an operator's console: it acts as the system, which holds the admin role. */
const AS_SYSTEM = { meta: { user: SYSTEM } };

/** `queue <eventId>`: the event's waiting room in figures; `queue <eventId> rate <n|auto>` changes its rate. */
export async function queueCommand(
  broker: ServiceBroker,
  args: { eventId?: string; action?: string; value?: string },
): Promise<string> {
  const { eventId, action, value } = args;
  if (!eventId) return USAGE;
  const status = await broker.call<QueueStatus, { eventId: string }>("waitingRoom.status", { eventId }, AS_SYSTEM);
  if (action === undefined) return describe(status);
  if (action !== "rate" || value === undefined) return USAGE;
  if (status.opensAt === null)
    return `event ${eventId} has no waiting room: set one with PUT /api/events/${eventId}/waiting-room`;
  // The change is an event command like the organizer's, so the event's log says who changed what.
  const rate = value === "auto" ? "auto" : Number(value);
  await broker.call("events.configureWaitingRoom", { id: eventId, opensAt: status.opensAt, rate }, AS_SYSTEM);
  return `rate of the waiting room of event ${eventId} set to ${rate === "auto" ? "auto" : `${rate}/s`}`;
}

function describe(s: QueueStatus): string {
  if (s.opensAt === null && s.length === 0) return `event ${s.eventId} has no waiting room`;
  const rate = s.rate === null ? "none (room removed)" : s.rate === "auto" ? "auto" : `${s.rate}/s`;
  return [
    `waiting room of event ${s.eventId}`,
    `  opens at   ${s.opensAt === null ? "-" : new Date(s.opensAt).toISOString()} (${s.opened ? "open" : "not open yet"})`,
    `  length     ${s.length}`,
    `  pre-queue  ${s.preQueue}`,
    `  admitted   ${s.admitted}`,
    `  sold out   ${s.soldOut ? "yes" : "no"}`,
    `  rate       ${rate} (effective ${s.effectiveRate === null ? "-" : `${s.effectiveRate}/s`})`,
  ].join("\n");
}

/** A refusal as the operator should read it: a validation error names the field and the rule. */
export function refusal(err: unknown): string {
  const data = (err as { data?: unknown }).data;
  if (Array.isArray(data) && data.length > 0) return data.map((d: { message?: string }) => d.message ?? String(d)).join("; ");
  return (err as Error).message;
}

export const queueCommands: ReplCustomCommand[] = [
  {
    command: "queue <eventId> [action] [value]",
    description:
      "An event's waiting room: length, pre-queue, admitted, sold out, rate; 'queue <eventId> rate <n|auto>' changes the rate",
    async action(broker: ServiceBroker, args: unknown) {
      try {
        console.log(await queueCommand(broker, args as { eventId?: string; action?: string; value?: string }));
      } catch (err) {
        console.log(`queue: ${refusal(err)}`);
      }
    },
  },
];
