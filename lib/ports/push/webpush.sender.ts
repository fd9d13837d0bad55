import { createHash } from "node:crypto";
import type { generateRequestDetails } from "web-push";
import { DeliveryError, type DeliveryReceipt } from "../delivery";
import { postForDelivery, retryAfterMs } from "../delivery-http";
import { integerSetting } from "../http";
import { BROWSER_PUSH_SERVICES, pushEndpointProblem } from "./push-endpoints";
import type { PushMessage, WebPushSubscription } from "./push.port";
import { vapidKeysProblem, webPush, type VapidKeys } from "./vapid-keys";

export interface WebPushSenderOptions {
  vapid: VapidKeys & { subject: string };
  /** Each push request; default 10000 ms. */
  timeoutMs?: number;
  /** How long the push service keeps a message for an offline browser; default 7 days. */
  ttlSeconds?: number;
  /** The push services an endpoint may point at (push-endpoints.ts); default the browsers' own. */
  allowedHosts?: readonly string[];
}

/**
 * Web Push: the payload encrypted for the subscription (RFC 8291, aes128gcm) and signed for the
 * push service with our VAPID key (RFC 8292), both by the `web-push` library; the request is
 * ours (fetch, so that timeouts, Retry-After and the outcome mapping match the other channels).
 * The endpoint is a capability URL: it never appears in messages.
 */
export class WebPushSender {
  readonly vapidPublicKey: string;
  readonly #vapid: WebPushSenderOptions["vapid"];
  private readonly timeoutMs: number;
  private readonly ttlSeconds: number;
  private readonly allowedHosts: readonly string[];

  constructor(options: WebPushSenderOptions) {
    const problem = vapidKeysProblem(options.vapid);
    if (problem) throw new TypeError(`WebPushSender: ${problem}`);
    this.#vapid = options.vapid;
    this.vapidPublicKey = options.vapid.publicKey;
    this.timeoutMs = integerSetting("WebPushSender", "timeoutMs", options.timeoutMs ?? 10_000, 1);
    this.ttlSeconds = integerSetting("WebPushSender", "ttlSeconds", options.ttlSeconds ?? 7 * 24 * 3600, 0);
    this.allowedHosts = options.allowedHosts ?? BROWSER_PUSH_SERVICES;
  }

  async send(subscription: WebPushSubscription, message: PushMessage): Promise<DeliveryReceipt> {
    const what = `push ${message.id} (Web Push)`;
    // Checked again here: a subscription registered before the list changed goes nowhere else.
    const refused = pushEndpointProblem(subscription.endpoint, this.allowedHosts);
    if (refused) throw new DeliveryError(`${what}: the subscription's endpoint ${refused}`, "permanent");
    const endpoint = new URL(subscription.endpoint);
    const payload = JSON.stringify({ id: message.id, title: message.title, body: message.body, data: message.data });
    const push = webPush();
    let details: ReturnType<typeof generateRequestDetails>;
    try {
      details = push.generateRequestDetails(subscription, payload, {
        vapidDetails: this.#vapid,
        contentEncoding: "aes128gcm",
        TTL: this.ttlSeconds,
        // The same notification sent again replaces the copy still waiting at the push service.
        topic: createHash("sha256").update(message.id).digest("base64url").slice(0, 32),
        urgency: "high",
      });
    } catch (err) {
      // Bad keys in the subscription (or a payload too large to encrypt): no retry can help.
      throw new DeliveryError(`${what}: cannot encrypt for this subscription (${firstLine(err)})`, "permanent");
    }
    const response = await postForDelivery({
      url: endpoint,
      headers: requestHeaders(details.headers),
      body: details.body ?? new Uint8Array(0),
      timeoutMs: this.timeoutMs,
      what,
    });
    const { status } = response;
    if (status >= 200 && status < 300) return {};
    const detail = `${what}: the push service answered HTTP ${status}`;
    if (status === 404 || status === 410) throw new DeliveryError(detail, "gone");
    if (status === 429 || status >= 500) throw new DeliveryError(detail, "transient", retryAfterMs(response.headers));
    throw new DeliveryError(detail, "permanent");
  }
}

/** web-push's headers as fetch takes them: strings, and no Content-Length (fetch sets it from the body). */
function requestHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== "content-length" && value !== undefined) out[name] = String(value);
  }
  return out;
}

/** web-push's messages quote the offending value at most as a length; keep only the first line anyway. */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 200);
}
