import { handleCommand, DomainError } from "../../../lib/eventlog/decider";
import { notificationDecider, type State } from "../../../services/notifications/notifications.decider";
import {
  notificationId,
  notificationStream,
  type NotificationCommand,
  type NotificationEvent,
  type NotificationRequest,
} from "../../../services/notifications/notifications.types";
import { retryDelay } from "../../../services/notifications/retry-schedule";
import { openTestStore } from "../../support/stores";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const CLAIM_MS = 60_000;
const admin = { sub: "root", roles: ["admin" as const] };
const buyer = { sub: "buyer-1", roles: ["customer" as const] };

const request: NotificationRequest = {
  id: notificationId("order_paid", "o1", "ann@example.com", "email"),
  kind: "order_paid",
  channel: "email",
  recipient: "ann@example.com",
  orderId: "o1",
  eventId: "e1",
  userId: "buyer-1",
  params: { kind: "order_paid" },
  cause: "evt-1",
};

/** Applies commands in turn, as the command handler would, and returns the events of each. */
function run(commands: NotificationCommand[], from: State = null): { state: State; events: NotificationEvent[][] } {
  let state = from;
  const events: NotificationEvent[][] = [];
  for (const command of commands) {
    const produced = notificationDecider.decide(command, state);
    events.push(produced);
    state = produced.reduce(notificationDecider.evolve, state);
  }
  return { state, events };
}

const requested = (at = T0): NotificationCommand => ({ type: "RequestNotification", request, at });
const claim = (owner: string, at: number): NotificationCommand => ({ type: "ClaimNotification", owner, claimMs: CLAIM_MS, at });
const transient = (attempt: number, at: number, retryAt: number, maxAttempts = 3): NotificationCommand => ({
  type: "RecordFailure",
  attempt,
  failure: "transient",
  error: "421 try later",
  retryAt,
  maxAttempts,
  at,
});

describe("notification ids", () => {
  it("are the same for the same kind, subject, recipient and channel, and differ otherwise", () => {
    const id = notificationId("order_paid", "o1", "ann@example.com", "email");
    expect(notificationId("order_paid", "o1", "ann@example.com", "email")).toBe(id);
    expect(notificationId("order_paid", "o1", "ann@example.com", "sms")).not.toBe(id);
    expect(notificationId("order_paid", "o2", "ann@example.com", "email")).not.toBe(id);
    expect(notificationId("refund_done", "o1", "ann@example.com", "email")).not.toBe(id);
    expect(id).toMatch(/^n[A-Za-z0-9_-]{22}$/);
  });
});

describe("notification decider", () => {
  it("records a request once: asking again (redelivery, replay, another node) changes nothing", () => {
    const { state, events } = run([requested(), requested(T0 + 5), requested(T0 + 10)]);
    expect(events.map((e) => e.length)).toEqual([1, 0, 0]);
    expect(state).toMatchObject({ status: "requested", attempts: 0, requestedAt: T0 });
  });

  it("records a request with no usable channel as skipped, with the reason", () => {
    const none = { ...request, channel: "none" as const, recipient: "" };
    const { state } = run([{ type: "RequestNotification", request: none, skip: "no usable channel", at: T0 }]);
    expect(state).toMatchObject({ status: "skipped", reason: "no usable channel" });
  });

  it("lets one claim through: a second claim while the first holds is a no-op", () => {
    const { state, events } = run([requested(), claim("node-a", T0 + 1), claim("node-b", T0 + 2), claim("node-a", T0 + 3)]);
    expect(events.map((e) => e.length)).toEqual([1, 1, 0, 0]);
    expect(state).toMatchObject({ status: "sending", attempts: 1, claim: { owner: "node-a", until: T0 + 1 + CLAIM_MS } });
  });

  it("lets another node take over an attempt whose claim expired (its node went silent)", () => {
    const { state, events } = run([requested(), claim("node-a", T0), claim("node-b", T0 + CLAIM_MS)]);
    expect(events[2]).toHaveLength(1);
    expect(state).toMatchObject({ status: "sending", attempts: 2, claim: { owner: "node-b" } });
  });

  it("retries a transient failure only once it is due, and fails after the last attempt", () => {
    const { state, events } = run([
      requested(),
      claim("a", T0),
      transient(1, T0 + 1, T0 + 1000),
      claim("a", T0 + 500),
      claim("a", T0 + 1000),
      transient(2, T0 + 1001, T0 + 3000),
      claim("a", T0 + 3000),
      transient(3, T0 + 3001, T0 + 7000),
    ]);
    expect(events[3]).toEqual([]);
    expect(events[4]).toHaveLength(1);
    expect(events[7].map((e) => e.type)).toEqual(["NotificationFailed"]);
    expect(state).toMatchObject({ status: "failed", attempts: 3 });
    expect(state!.reason).toMatch(/gave up after 3 attempts: 421 try later/);
  });

  it("ignores a late failure of an attempt another node took over, and records a late success", () => {
    const takenOver = run([
      requested(),
      claim("a", T0),
      claim("b", T0 + CLAIM_MS),
      transient(1, T0 + CLAIM_MS + 1, T0 + 2 * CLAIM_MS),
    ]);
    expect(takenOver.events[3]).toEqual([]);
    expect(takenOver.state).toMatchObject({ status: "sending", attempts: 2, claim: { owner: "b" } });
    const retrying = run(
      [transient(2, T0 + CLAIM_MS + 2, T0 + 2 * CLAIM_MS), { type: "RecordSent", at: T0 + CLAIM_MS + 3 }],
      takenOver.state,
    );
    expect(retrying.state).toMatchObject({ status: "sent" });
  });

  it("fails a permanent or gone failure at once, without a retry", () => {
    for (const failure of ["permanent", "gone"] as const) {
      const { state } = run([
        requested(),
        claim("a", T0),
        {
          type: "RecordFailure",
          attempt: 1,
          failure,
          error: "550 no such user",
          retryAt: T0 + 1000,
          maxAttempts: 10,
          at: T0 + 1,
        },
        claim("a", T0 + 5000),
      ]);
      expect(state).toMatchObject({ status: "failed", reason: "550 no such user", lastError: { kind: failure } });
    }
  });

  it("keeps final states final: no claim, no second sent, no skip", () => {
    const sent = run([requested(), claim("a", T0), { type: "RecordSent", providerId: "q1", at: T0 + 1 }]).state;
    expect(sent).toMatchObject({ status: "sent", providerId: "q1", sentAt: T0 + 1 });
    const after = run(
      [
        claim("b", T0 + 10 * CLAIM_MS),
        { type: "RecordSent", at: T0 + 2 },
        { type: "SkipNotification", reason: "late", at: T0 + 3 },
        requested(T0 + 4),
      ],
      sent,
    );
    expect(after.events.every((e) => e.length === 0)).toBe(true);
  });

  it("sends again on an admin's resend, with a fresh round of attempts", () => {
    const failed = run([
      requested(),
      claim("a", T0),
      { type: "RecordFailure", attempt: 1, failure: "permanent", error: "550", retryAt: 0, maxAttempts: 3, at: T0 + 1 },
    ]).state;
    expect(() => run([{ type: "ResendNotification", actor: buyer, at: T0 + 2 }], failed)).toThrow(DomainError);
    const { state } = run([{ type: "ResendNotification", actor: admin, at: T0 + 2 }, claim("b", T0 + 3)], failed);
    expect(state).toMatchObject({ status: "sending", attempts: 1, claim: { owner: "b" } });
  });

  it("refuses a resend of one still on its way, or of one that had no channel", () => {
    const sending = run([requested(), claim("a", T0)]).state;
    expect(() => run([{ type: "ResendNotification", actor: admin, at: T0 + 1 }], sending)).toThrow(/still on its way/);
    const none = run([
      { type: "RequestNotification", request: { ...request, channel: "none", recipient: "" }, skip: "no usable channel", at: T0 },
    ]).state;
    expect(() => run([{ type: "ResendNotification", actor: admin, at: T0 + 1 }], none)).toThrow(/no usable channel/);
  });

  it("lets exactly one of two nodes claiming at the same moment win, through the stream's expected version", async () => {
    const { store } = await openTestStore("embedded", { memory: true, logs: ["notifications"] });
    try {
      const log = store.log("notifications");
      const stream = notificationStream(request.id);
      await handleCommand(log, notificationDecider, stream, requested());
      const results = await Promise.all(
        ["node-a", "node-b", "node-c"].map((owner) => handleCommand(log, notificationDecider, stream, claim(owner, T0 + 1))),
      );
      const winners = results.filter((r) => r.commit !== null);
      expect(winners).toHaveLength(1);
      expect(results.every((r) => r.state!.claim!.owner === winners[0].state!.claim!.owner)).toBe(true);
      expect(await log.readStream(stream)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });
});

describe("retry schedule", () => {
  const options = { baseMs: 1000, maxMs: 60_000 };

  it("doubles the ceiling per attempt up to the maximum, with full jitter below it", () => {
    expect([1, 2, 3, 4, 7, 8, 20].map((a) => retryDelay(a, options, () => 0.999999))).toEqual([
      999, 1999, 3999, 7999, 59_999, 59_999, 59_999,
    ]);
    expect(retryDelay(5, options, () => 0)).toBe(0);
    expect(retryDelay(3, options, () => 0.5)).toBe(2000);
  });

  it("never retries before the provider's Retry-After", () => {
    expect(retryDelay(1, { ...options, retryAfterMs: 30_000 }, () => 0.5)).toBe(30_000);
    expect(retryDelay(8, { ...options, retryAfterMs: 100 }, () => 0.5)).toBe(30_000);
  });
});
