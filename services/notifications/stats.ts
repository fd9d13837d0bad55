import { CHANNELS, type Channel } from "../../lib/domain/notifications";
import type { DocCollection } from "../../lib/store/types";
import type { NotificationDoc } from "./notifications.types";

const HOUR = 3_600_000;

export interface NotificationStats {
  /** Waiting or being sent on the node that answered. */
  nodeQueue: number;
  requested: number;
  retrying: number;
  sending: number;
  /** How long the oldest notification due now has been waiting (0: nothing waits). */
  lagMs: number;
  lastHour: Record<Channel, { sent: number; failed: number }>;
}

/** The REPL's `notifications`: the backlog over the whole cluster (from the read model), and the last hour. */
export async function notificationStats(
  docs: DocCollection<NotificationDoc>,
  nodeQueue: number,
  now: number,
): Promise<NotificationStats> {
  const [requested, retrying, sending] = await Promise.all(
    (["requested", "retrying", "sending"] as const).map((status) => docs.count({ status })),
  );
  const [oldestRequested] = await docs.find({ status: "requested" }, { sort: { updatedAt: 1 }, limit: 1 });
  const [oldestRetry] = await docs.find(
    { status: "retrying", nextAttemptAt: { $lte: now } },
    { sort: { nextAttemptAt: 1 }, limit: 1 },
  );
  const since = Math.min(oldestRequested?.updatedAt ?? now, oldestRetry?.nextAttemptAt ?? now);
  const since1h = now - HOUR;
  const lastHour = Object.fromEntries(
    await Promise.all(
      CHANNELS.map(async (channel) => [
        channel,
        {
          sent: await docs.count({ channel, status: "sent", sentAt: { $gte: since1h } }),
          failed: await docs.count({ channel, status: "failed", updatedAt: { $gte: since1h } }),
        },
      ]),
    ),
  ) as NotificationStats["lastHour"];
  return { nodeQueue, requested, retrying, sending, lagMs: Math.max(0, now - since), lastHour };
}
