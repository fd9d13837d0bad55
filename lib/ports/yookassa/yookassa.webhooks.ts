/**
 * The YooKassa simulator's notifications: sent to the shop's webhook URL with retries and
 * backoff as the provider does, or, when a test asks for a fault, dropped, duplicated, held and
 * sent in reverse, delayed, or preceded by an early claim that a pending payment is authorised.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { postJson } from "../http";
import type { Notification, NotificationEvent, Payment, Refund } from "./yookassa.port";

/**
 * How webhooks misbehave: `duplicate` sends each twice, `reorder` holds them and sends the
 * newest first, `drop` loses them, `early` also sends a `payment.waiting_for_capture` right
 * after a payment is created (while it is still pending, as a provider's race would), `delay`
 * sends each `delayMs` late.
 */
export type WebhookMode = "normal" | "duplicate" | "reorder" | "drop" | "early" | "delay";

/** One attempt to deliver a webhook, or a webhook the `drop` fault swallowed. */
export interface WebhookDelivery {
  event: NotificationEvent;
  objectId: string;
  /** 1 for the first attempt, counting up for retries. */
  attempt: number;
  /** The receiver's HTTP status; absent when it did not answer or the webhook was dropped. */
  status?: number;
  error?: string;
  dropped?: boolean;
  at: string;
}

export interface WebhookSenderOptions {
  /** Where webhooks go now (the URL may be set after start); none are sent while undefined. */
  target(): string | undefined;
  /** Aborted when the simulator closes: nothing more is sent or waited for. */
  closing: AbortSignal;
  attempts?: number;
  backoffMs?: number;
  reorderHoldMs?: number;
}

const WEBHOOK_TIMEOUT_MS = 2000;

/** Resolves after `ms`, or false at once when `signal` aborts first. */
export async function after(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export class WebhookSender {
  private readonly log: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private held: Notification[] = [];
  private holdTimer?: NodeJS.Timeout;
  private mode: WebhookMode = "normal";
  private delayMs: number | undefined;

  constructor(private readonly o: WebhookSenderOptions) {}

  get deliveries(): WebhookDelivery[] {
    return [...this.log];
  }

  setMode(mode: WebhookMode, delayMs?: number): void {
    this.mode = mode;
    this.delayMs = delayMs;
    // Whatever was held for reordering is not lost by leaving the mode.
    if (mode !== "reorder" && this.held.length > 0) this.releaseHeld();
  }

  /** Sends held (`reorder`) webhooks now and waits until every delivery in flight has finished. */
  async flush(): Promise<void> {
    this.releaseHeld();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    clearTimeout(this.holdTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  notify(event: NotificationEvent, object: Payment | Refund): void {
    const notification = { type: "notification", event, object: structuredClone(object) } as Notification;
    switch (this.mode) {
      case "drop":
        this.log.push({ event, objectId: object.id, attempt: 1, dropped: true, at: new Date().toISOString() });
        return;
      case "reorder":
        this.held.push(notification);
        if (this.holdTimer === undefined) {
          this.holdTimer = setTimeout(() => this.releaseHeld(), this.o.reorderHoldMs ?? 200);
          this.holdTimer.unref();
        }
        return;
      case "duplicate":
        this.dispatch(notification);
        this.dispatch(notification);
        return;
      case "delay":
        this.later(this.delayMs ?? 1000, notification);
        return;
      case "early":
      case "normal":
        this.dispatch(notification);
    }
  }

  /** A payment was created: in `early` mode, a notification claims it is authorised while it is still pending. */
  createdPending(payment: Payment): void {
    if (this.mode !== "early") return;
    const claimed = { ...structuredClone(payment), status: "waiting_for_capture" as const, paid: true };
    this.later(this.delayMs ?? 20, {
      type: "notification",
      event: "payment.waiting_for_capture",
      object: claimed,
    } as Notification);
  }

  private later(ms: number, notification: Notification): void {
    this.track(after(ms, this.o.closing).then((go) => (go ? this.deliver(notification) : undefined)));
  }

  /** Newest first: the order a receiver must not depend on. */
  private releaseHeld(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const batch = this.held.reverse();
    this.held = [];
    if (batch.length === 0) return;
    const inOrder = (async () => {
      for (const notification of batch) await this.deliver(notification);
    })();
    this.track(inOrder);
  }

  private dispatch(notification: Notification): void {
    this.track(this.deliver(notification));
  }

  private track(delivery: Promise<void>): void {
    const tracked = delivery.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async deliver(notification: Notification): Promise<void> {
    const target = this.o.target();
    if (target === undefined) return;
    const body = JSON.stringify(notification);
    const attempts = Math.max(1, this.o.attempts ?? 4);
    const backoffMs = this.o.backoffMs ?? 100;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const entry: WebhookDelivery = {
        event: notification.event,
        objectId: notification.object.id,
        attempt,
        at: new Date().toISOString(),
      };
      try {
        // Over kept-alive connections, as the provider's senders hold them.
        entry.status = await postJson(target, body, WEBHOOK_TIMEOUT_MS, this.o.closing);
        this.log.push(entry);
        if (entry.status >= 200 && entry.status < 300) return;
      } catch (error) {
        if (this.o.closing.aborted) return;
        entry.error = error instanceof Error ? error.message : String(error);
        this.log.push(entry);
      }
      if (attempt === attempts || !(await after(backoffMs * 2 ** (attempt - 1), this.o.closing))) return;
    }
  }
}
