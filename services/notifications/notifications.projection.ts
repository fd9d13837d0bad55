import { NOTIFICATIONS_LOG } from "../../lib/domain/notifications";
import type { Projection } from "../../lib/eventlog/projection";
import type { NotificationDoc, NotificationEvent } from "./notifications.types";

type Change = Partial<Omit<NotificationDoc, "_id" | "id" | "createdAt" | "updatedAt">>;

/** What each event changes of the document (the same transitions as the decider's evolve). */
function changeOf(event: NotificationEvent): Change {
  switch (event.type) {
    case "NotificationRequested":
      return {};
    case "NotificationClaimed":
      return { status: "sending", attempts: event.data.attempt, claimUntil: event.data.until, nextAttemptAt: null };
    case "NotificationSent":
      return { status: "sent", claimUntil: null, sentAt: event.data.at, providerId: event.data.providerId ?? null };
    case "NotificationAttemptFailed":
      return { status: "retrying", claimUntil: null, nextAttemptAt: event.data.retryAt, lastError: event.data.error };
    case "NotificationFailed":
      return { status: "failed", claimUntil: null, nextAttemptAt: null, lastError: event.data.error, reason: event.data.error };
    case "NotificationSkipped":
      return { status: "skipped", claimUntil: null, nextAttemptAt: null, reason: event.data.reason };
    case "NotificationResendRequested":
      return { status: "requested", attempts: 0, claimUntil: null, nextAttemptAt: null, reason: null };
  }
}

/**
 * One document per notification, without the recipient (lists show ids, never addresses or
 * numbers). The delivery sweeps read it to find work; the decider remains the judge.
 */
export const notificationsProjection: Projection<NotificationDoc> = {
  name: "notifications.log",
  log: NOTIFICATIONS_LOG,
  collection: "notifications",
  indexes: [{ field: "userId" }, { field: "status" }, { field: "orderId" }, { field: "eventId" }, { field: "createdAt" }],
  apply: async (recorded, view) => {
    if (!recorded.stream.startsWith("notification-")) return;
    const id = recorded.stream.slice("notification-".length);
    const event = { type: recorded.type, data: recorded.data } as NotificationEvent;
    if (event.type === "NotificationRequested") {
      const r = event.data;
      await view.get(id);
      view.put({
        _id: id,
        id,
        kind: r.kind,
        channel: r.channel,
        status: "requested",
        userId: r.userId,
        orderId: r.orderId,
        eventId: r.eventId,
        attempts: 0,
        nextAttemptAt: null,
        claimUntil: null,
        lastError: null,
        reason: null,
        providerId: null,
        sentAt: null,
        startsAt: r.params.kind === "event_reminder" ? r.params.startsAt : null,
        createdAt: recorded.at,
        updatedAt: recorded.at,
      });
      return;
    }
    const doc = await view.get(id);
    if (doc) view.put({ ...doc, ...changeOf(event), updatedAt: recorded.at });
  },
};
