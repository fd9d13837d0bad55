import { isDeliveryError, type DeliveryFailureKind, type DeliveryReceipt } from "../../lib/ports/delivery";
import type { Logger } from "../../lib/app/runtime";
import type { UserProfile } from "../../lib/domain/notifications";
import type { NotificationData } from "./notification-data";
import type { NotificationCommand, NotificationRequest, NotificationState } from "./notifications.types";
import type { Gathered } from "./gather";
import { retryDelay } from "./retry-schedule";

const RECORD_TRIES = 5;
const RECORD_PAUSE_MS = 200;

export type Outcome = "sent" | "retrying" | "failed" | "gone" | "skipped";

export interface DeliveryOptions {
  concurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Takes the notification for one attempt; null when it is not due or another node holds it. */
  claim(id: string): Promise<NotificationState | null>;
  record(id: string, command: NotificationCommand): Promise<void>;
  gather(request: NotificationRequest): Promise<Gathered>;
  send(request: NotificationRequest, data: NotificationData, profile: UserProfile | null): Promise<DeliveryReceipt>;
  /** The push service says the device no longer exists: take it off the user's profile. */
  deviceGone(request: NotificationRequest): Promise<void>;
  outcome(request: NotificationRequest, outcome: Outcome): void;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

/** An error's text for the log: the port's own message (no personal data), else the error's kind. */
function errorText(err: unknown): string {
  if (isDeliveryError(err)) return err.message.slice(0, 500);
  const e = err as { name?: string; type?: string; message?: string };
  // Unexpected failures (a service not answering, a render bug) are someone else's text: keep its shape only.
  return `unexpected ${e.type ?? e.name ?? "error"}`;
}

/**
 * The sends of this node: at most `concurrency` at once, each one claim → gather → render
 * and send → record. A notification is queued once per node however often it is asked for;
 * across nodes the claim decides. A node killed mid-send leaves at most `concurrency`
 * notifications claimed and maybe sent: after NOTIFY_CLAIM_MS another node takes them over
 * and sends them again (the only repeat; e-mails keep their Message-ID, so clients fold them).
 */
export class DeliveryQueue {
  private readonly waiting: string[] = [];
  private readonly known = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: DeliveryOptions) {}

  /** Notifications waiting or being sent on this node. */
  get size(): number {
    return this.known.size;
  }

  enqueue(id: string): void {
    if (this.stopped || this.known.has(id)) return;
    this.known.add(id);
    this.waiting.push(id);
    this.pump();
  }

  /** Takes no more work and waits for the sends under way; the waiting ones are left to the sweeps. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const run: Promise<void> = this.deliver(id)
        .catch((err) => this.options.logger.warn(`notification ${id}: not recorded (${errorText(err)}); the sweep retries it`))
        .finally(() => {
          this.running.delete(run);
          this.known.delete(id);
          this.pump();
        });
      this.running.add(run);
    }
  }

  private async deliver(id: string): Promise<void> {
    const o = this.options;
    const state = await o.claim(id);
    if (!state) return;
    const { request } = state;
    const now = o.now ?? Date.now;
    let receipt: DeliveryReceipt;
    try {
      const gathered = await o.gather(request);
      if ("skip" in gathered) {
        await o.record(id, { type: "SkipNotification", reason: gathered.skip, at: now() });
        o.outcome(request, "skipped");
        return;
      }
      receipt = await o.send(request, gathered.data, gathered.profile);
    } catch (err) {
      await this.failed(state, err);
      return;
    }
    // The message is out: a store that blinks now must not turn it into a failure and a second
    // send. Only if every try fails does the claim expire and the message go again.
    const sent = { type: "RecordSent", providerId: receipt.providerId, at: now() } as const;
    for (let attempt = 1; ; attempt++) {
      try {
        await o.record(id, sent);
        break;
      } catch (err) {
        if (attempt >= RECORD_TRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, RECORD_PAUSE_MS * attempt));
      }
    }
    o.outcome(request, "sent");
  }

  private async failed(state: NotificationState, err: unknown): Promise<void> {
    const o = this.options;
    const { request, attempts } = state;
    // Anything but the port's own verdict (users service down, a render bug) may pass: try again.
    const kind: DeliveryFailureKind = isDeliveryError(err) ? err.kind : "transient";
    const at = (o.now ?? Date.now)();
    const delay = retryDelay(
      attempts,
      { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, retryAfterMs: isDeliveryError(err) ? err.retryAfterMs : undefined },
      o.random,
    );
    const error = errorText(err);
    await o.record(request.id, {
      type: "RecordFailure",
      attempt: attempts,
      failure: kind,
      error,
      retryAt: at + delay,
      maxAttempts: o.maxAttempts,
      at,
    });
    const final = kind !== "transient" || attempts >= o.maxAttempts;
    o.outcome(request, kind === "gone" ? "gone" : final ? "failed" : "retrying");
    o.logger.info(`notification ${request.id} (${request.kind}, ${request.channel}) attempt ${attempts}: ${kind}: ${error}`);
    if (kind === "gone") await o.deviceGone(request);
  }
}
