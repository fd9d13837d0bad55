import { DeliveryError } from "../../../lib/ports/delivery";
import type { NotificationData } from "../../../services/notifications/notification-data";
import { DeliveryQueue, type DeliveryOptions, type Outcome } from "../../../services/notifications/delivery";
import { notificationDecider, type State } from "../../../services/notifications/notifications.decider";
import type { NotificationCommand, NotificationRequest } from "../../../services/notifications/notifications.types";
import { waitFor } from "../../support/wait";

/** Waits until the queue has nothing waiting or in flight. */
const drained = (queue: DeliveryQueue, what: string) =>
  waitFor(
    what,
    async () => queue.size,
    (size) => size === 0,
    { timeoutMs: 10_000, intervalMs: 5 },
  );

const T0 = Date.parse("2030-01-01T12:00:00Z");
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function request(id: string): NotificationRequest {
  return {
    id,
    kind: "order_paid",
    channel: "push",
    recipient: "device-1",
    orderId: "o1",
    eventId: "e1",
    userId: "u1",
    params: { kind: "order_paid" },
    cause: "x",
  };
}

/** The decider over an in-memory map of streams: what the service does over the log. */
function harness(
  send: DeliveryOptions["send"],
  overrides: Partial<DeliveryOptions> = {},
  /** The store refuses a write when this says so (a blink). */
  refuse: (command: NotificationCommand) => boolean = () => false,
) {
  const streams = new Map<string, State>();
  const outcomes: Outcome[] = [];
  const gone: string[] = [];
  let now = T0;
  const apply = (id: string, command: NotificationCommand) => {
    const state = streams.get(id) ?? null;
    const events = notificationDecider.decide(command, state);
    streams.set(id, events.reduce(notificationDecider.evolve, state));
    return events.length > 0;
  };
  const queue = new DeliveryQueue({
    concurrency: 2,
    maxAttempts: 3,
    retryBaseMs: 1000,
    retryMaxMs: 10_000,
    claim: async (id) =>
      apply(id, { type: "ClaimNotification", owner: "me", claimMs: 60_000, at: now }) ? streams.get(id)! : null,
    record: async (id, command) => {
      if (refuse(command)) throw new Error("store unreachable");
      apply(id, command);
    },
    gather: async () => ({ data: {} as NotificationData, profile: null }),
    send,
    deviceGone: async (r) => void gone.push(r.recipient),
    outcome: (_r, o) => void outcomes.push(o),
    logger,
    now: () => now,
    random: () => 0.5,
    ...overrides,
  });
  const add = (id: string) => {
    apply(id, { type: "RequestNotification", request: request(id), at: now });
    queue.enqueue(id);
  };
  return { queue, streams, outcomes, gone, add, advance: (ms: number) => (now += ms) };
}

describe("delivery queue", () => {
  it("sends each notification once however often it is queued, at most `concurrency` at a time", async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const h = harness(async (r) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      sent.push(r.id);
      return { providerId: `p-${r.id}` };
    });
    for (const id of ["a", "b", "c", "d", "e"]) h.add(id);
    for (const id of ["a", "b", "c"]) h.queue.enqueue(id);
    await drained(h.queue, "the queue to drain");
    for (const id of ["a", "b"]) h.queue.enqueue(id);
    await drained(h.queue, "the queue to drain again");
    expect(sent.sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(most).toBeLessThanOrEqual(2);
    expect(h.streams.get("a")).toMatchObject({ status: "sent", providerId: "p-a" });
  });

  it("schedules a transient failure with backoff and the provider's Retry-After, then fails after the last attempt", async () => {
    const h = harness(async () => {
      throw new DeliveryError("429 slow down", "transient", 5000);
    });
    h.add("a");
    await drained(h.queue, "the first attempt");
    expect(h.streams.get("a")).toMatchObject({ status: "retrying", nextAttemptAt: T0 + 5000 });
    for (let i = 0; i < 2; i++) {
      h.advance(10_000);
      h.queue.enqueue("a");
      await drained(h.queue, "a retry");
    }
    expect(h.streams.get("a")).toMatchObject({ status: "failed", attempts: 3 });
    expect(h.outcomes).toEqual(["retrying", "retrying", "failed"]);
  });

  it("records a permanent failure without a retry, and a gone device is removed", async () => {
    const h = harness(async () => {
      throw new DeliveryError("UNREGISTERED", "gone");
    });
    h.add("a");
    await drained(h.queue, "the attempt");
    expect(h.streams.get("a")).toMatchObject({ status: "failed", reason: "UNREGISTERED" });
    expect(h.gone).toEqual(["device-1"]);
  });

  it("treats an unexpected error (a service not answering, a render bug) as transient, without its text", async () => {
    const h = harness(async () => {
      throw new TypeError("cannot read ann@example.com");
    });
    h.add("a");
    await drained(h.queue, "the attempt");
    expect(h.streams.get("a")).toMatchObject({
      status: "retrying",
      lastError: { kind: "transient", message: "unexpected TypeError" },
    });
  });

  it("records a sent message even when the store fails the first try: no failure, no second send", async () => {
    let sends = 0;
    let blinks = 1;
    const h = harness(
      async () => {
        sends++;
        return {};
      },
      {},
      (command) => command.type === "RecordSent" && blinks-- > 0,
    );
    h.add("a");
    await drained(h.queue, "the attempt");
    expect(h.streams.get("a")).toMatchObject({ status: "sent" });
    expect(sends).toBe(1);
  });

  it("skips what has gone stale by send time, with the reason", async () => {
    const h = harness(async () => ({}), { gather: async () => ({ skip: "event started" }) });
    h.add("a");
    await drained(h.queue, "the attempt");
    expect(h.streams.get("a")).toMatchObject({ status: "skipped", reason: "event started" });
  });
});
