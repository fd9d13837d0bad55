import { isAdmin } from "../../lib/domain/actor";
import { DomainError, type Decider } from "../../lib/eventlog/decider";
import type {
  ClaimNotification,
  NotificationCommand,
  NotificationEvent,
  NotificationState,
  RecordFailure,
  RequestNotification,
} from "./notifications.types";

/** Null until requested. */
export type State = NotificationState | null;

const FINAL = new Set(["sent", "failed", "skipped"]);

export function isFinal(state: NotificationState): boolean {
  return FINAL.has(state.status);
}

/**
 * Whether a node may take the notification for an attempt now: asked for and not yet tried,
 * a retry whose time has come, or an attempt whose node went silent past its claim (killed
 * mid-send: that attempt may have gone out, the only case a message is sent twice).
 */
export function isDue(state: NotificationState, at: number): boolean {
  switch (state.status) {
    case "requested":
      return true;
    case "retrying":
      return (state.nextAttemptAt ?? 0) <= at;
    case "sending":
      return (state.claim?.until ?? 0) <= at;
    default:
      return false;
  }
}

function decideRequest(command: RequestNotification, state: State): NotificationEvent[] {
  // Asked again (redelivery, replay, restart, another node): the first request stands.
  if (state) return [];
  const { request, at } = command;
  const events: NotificationEvent[] = [{ type: "NotificationRequested", data: { ...request, at } }];
  if (command.skip) events.push({ type: "NotificationSkipped", data: { id: request.id, reason: command.skip, at } });
  return events;
}

function decideClaim(command: ClaimNotification, state: NotificationState): NotificationEvent[] {
  // Someone else holds it, or it is final, or not due yet: the loser of a race does nothing.
  if (!isDue(state, command.at)) return [];
  const attempt = state.attempts + 1;
  return [
    {
      type: "NotificationClaimed",
      data: { id: state.request.id, owner: command.owner, until: command.at + command.claimMs, attempt, at: command.at },
    },
  ];
}

function decideFailure(command: RecordFailure, state: NotificationState): NotificationEvent[] {
  if (state.status !== "sending" || state.attempts !== command.attempt) return [];
  const { failure, error, at } = command;
  const base = { id: state.request.id, failure, error, attempt: state.attempts, at };
  if (failure !== "transient") return [{ type: "NotificationFailed", data: base }];
  if (state.attempts >= command.maxAttempts) {
    return [{ type: "NotificationFailed", data: { ...base, error: `gave up after ${state.attempts} attempts: ${error}` } }];
  }
  return [{ type: "NotificationAttemptFailed", data: { ...base, retryAt: command.retryAt } }];
}

function decide(command: NotificationCommand, state: State): NotificationEvent[] {
  if (command.type === "RequestNotification") return decideRequest(command, state);
  if (!state) throw new DomainError("NOT_FOUND", "this notification does not exist", 404);
  switch (command.type) {
    case "ClaimNotification":
      return decideClaim(command, state);
    case "RecordSent":
      // Whichever attempt got through (also one taken over meanwhile, or reported after a later
      // attempt's failure): the message went out. Final states stay as they are.
      if (state.status !== "sending" && state.status !== "retrying") return [];
      return [
        {
          type: "NotificationSent",
          data: { id: state.request.id, providerId: command.providerId, attempt: state.attempts, at: command.at },
        },
      ];
    case "RecordFailure":
      return decideFailure(command, state);
    case "SkipNotification":
      if (isFinal(state)) return [];
      return [{ type: "NotificationSkipped", data: { id: state.request.id, reason: command.reason, at: command.at } }];
    case "ResendNotification":
      if (!isAdmin(command.actor)) throw new DomainError("FORBIDDEN", "only an admin may resend a notification", 403);
      if (state.request.channel === "none") {
        throw new DomainError("NOT_RESENDABLE", "this notification had no usable channel: there is nothing to send", 409);
      }
      if (!isFinal(state)) {
        throw new DomainError("NOT_RESENDABLE", `this notification is ${state.status}: it is still on its way`, 409);
      }
      return [{ type: "NotificationResendRequested", data: { id: state.request.id, by: command.actor.sub, at: command.at } }];
  }
}

function evolve(state: State, event: NotificationEvent): State {
  if (event.type === "NotificationRequested") {
    const { at, ...request } = event.data;
    return {
      request,
      status: "requested",
      attempts: 0,
      claim: null,
      nextAttemptAt: null,
      lastError: null,
      sentAt: null,
      providerId: null,
      reason: null,
      requestedAt: at,
    };
  }
  if (!state) throw new Error(`notification stream has ${event.type} before its request`);
  switch (event.type) {
    case "NotificationClaimed":
      return {
        ...state,
        status: "sending",
        attempts: event.data.attempt,
        claim: { owner: event.data.owner, until: event.data.until },
        nextAttemptAt: null,
      };
    case "NotificationSent":
      return { ...state, status: "sent", claim: null, sentAt: event.data.at, providerId: event.data.providerId ?? null };
    case "NotificationAttemptFailed":
      return {
        ...state,
        status: "retrying",
        claim: null,
        nextAttemptAt: event.data.retryAt,
        lastError: { kind: event.data.failure, message: event.data.error },
      };
    case "NotificationFailed":
      return {
        ...state,
        status: "failed",
        claim: null,
        nextAttemptAt: null,
        lastError: { kind: event.data.failure, message: event.data.error },
        reason: event.data.error,
      };
    case "NotificationSkipped":
      return { ...state, status: "skipped", claim: null, nextAttemptAt: null, reason: event.data.reason };
    case "NotificationResendRequested":
      // A fresh round of attempts; the log keeps the earlier ones.
      return { ...state, status: "requested", attempts: 0, claim: null, nextAttemptAt: null, reason: null };
  }
}

/**
 * One notification's life: requested once, claimed by one node at a time (the append with
 * the stream's expected version is the fence: of two nodes claiming together, the second
 * decides again on the first one's claim and appends nothing), then sent, retried, failed or
 * skipped. Final states stay final unless an admin asks for a resend.
 */
export const notificationDecider: Decider<NotificationCommand, NotificationEvent, State> = {
  initialState: () => null,
  decide,
  evolve,
};
