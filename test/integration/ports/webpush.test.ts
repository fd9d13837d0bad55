/**
 * Contract test: the real Web Push sender (web-push: VAPID + aes128gcm) against a local push
 * service that checks the VAPID JWT and decrypts the payload with the subscription's keys.
 */
import { generateRequestDetails, generateVAPIDKeys } from "web-push";
import type { PushMessage } from "../../../lib/ports/push/push.port";
import { WebPushSender } from "../../../lib/ports/push/webpush.sender";
import { startPushEndpoint, type PushEndpoint } from "../../support/push-endpoint";
import { deliveryRejection } from "./delivery-rejection";

const VAPID = { ...generateVAPIDKeys(), subject: "mailto:tickets@example.com" };
const message = (id: string): PushMessage => ({
  id,
  title: "Напоминание",
  body: "Концерт завтра в 19:00",
  data: { orderId: "o-7", url: "https://tickets.example.com/orders/o-7" },
});

let push: PushEndpoint;
// The push service of this test, on this machine, is the only one allowed.
const sender = new WebPushSender({ vapid: VAPID, timeoutMs: 2000, allowedHosts: ["127.0.0.1"] });

beforeAll(async () => {
  push = await startPushEndpoint();
});

afterEach(() => push.setFault(null));

afterAll(() => push.close());

describe("delivered", () => {
  it("delivers a payload the subscription's keys decrypt to what was sent, signed with our VAPID key", async () => {
    const { id, subscription } = push.subscribe();
    await expect(sender.send(subscription, message("w-1"))).resolves.toEqual({});
    const got = push.received.filter((r) => r.subscriptionId === id);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.plaintext)).toEqual({
      id: "w-1",
      title: "Напоминание",
      body: "Концерт завтра в 19:00",
      data: { orderId: "o-7", url: "https://tickets.example.com/orders/o-7" },
    });
    expect(got[0]).toMatchObject({ vapidKey: VAPID.publicKey, vapidSubject: VAPID.subject, urgency: "high" });
    expect(Number(got[0]!.ttl)).toBeGreaterThan(0);
    expect(sender.vapidPublicKey).toBe(VAPID.publicKey);
  });

  it("gives a repeat of the same notification the same topic, so the push service keeps one", async () => {
    const { id, subscription } = push.subscribe();
    await sender.send(subscription, message("w-repeat"));
    await sender.send(subscription, message("w-repeat"));
    await sender.send(subscription, message("w-other"));
    const topics = push.received.filter((r) => r.subscriptionId === id).map((r) => r.topic);
    expect(topics[0]).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(topics[1]).toBe(topics[0]);
    expect(topics[2]).not.toBe(topics[0]);
  });

  it("will not sign with a private key that is not the public key's", () => {
    const other = generateVAPIDKeys();
    expect(() => new WebPushSender({ vapid: { ...VAPID, privateKey: other.privateKey } })).toThrow(/does not belong/);
  });

  it("checks the VAPID signature: a JWT signed by another key than k is refused (the endpoint verifies)", async () => {
    const { id, subscription } = push.subscribe();
    const other = generateVAPIDKeys();
    // k says VAPID.publicKey, the JWT is signed with someone else's private key.
    const forged = generateRequestDetails(subscription, "forged", {
      vapidDetails: { subject: VAPID.subject, publicKey: VAPID.publicKey, privateKey: other.privateKey },
      contentEncoding: "aes128gcm",
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(forged.headers))
      if (name.toLowerCase() !== "content-length") headers[name] = String(value);
    const response = await fetch(subscription.endpoint, { method: "POST", headers, body: forged.body });
    expect(response.status).toBe(403);
    expect(push.rejected.filter((r) => r.subscriptionId === id).map((r) => r.reason)).toEqual([
      expect.stringContaining("VAPID JWT refused"),
    ]);
    expect(push.received.filter((r) => r.subscriptionId === id)).toEqual([]);
  });
});

describe("failures", () => {
  it("reports a subscription the push service calls gone (410) as gone, without the endpoint", async () => {
    const { id, subscription } = push.subscribe();
    push.markGone(id);
    const error = await deliveryRejection(sender.send(subscription, message("w-gone")), "gone", [
      subscription.endpoint,
      id,
      subscription.keys.auth,
    ]);
    expect(error.message).toContain("410");
  });

  it("reports an unknown subscription (404) as gone", async () => {
    const { subscription } = push.subscribe();
    const unknown = { ...subscription, endpoint: `${push.url}/push/no-such-subscription` };
    await deliveryRejection(sender.send(unknown, message("w-404")), "gone", ["no-such-subscription"]);
  });

  it("reports 429 as transient with its Retry-After, then delivers", async () => {
    const { id, subscription } = push.subscribe();
    push.setFault({ status: 429, retryAfterSeconds: 20, times: 1 });
    const error = await deliveryRejection(sender.send(subscription, message("w-429")), "transient", [subscription.endpoint]);
    expect(error.retryAfterMs).toBe(20_000);
    await sender.send(subscription, message("w-429"));
    expect(push.received.filter((r) => r.subscriptionId === id)).toHaveLength(1);
  });

  it("reports 5xx as transient", async () => {
    const { subscription } = push.subscribe();
    push.setFault({ status: 503, times: 1 });
    await deliveryRejection(sender.send(subscription, message("w-503")), "transient", [subscription.endpoint]);
  });

  it("reports a payload too large (413) as permanent", async () => {
    const { id, subscription } = push.subscribe();
    const big = { ...message("w-big"), body: "x".repeat(5000) };
    await deliveryRejection(sender.send(subscription, big), "permanent", [subscription.endpoint]);
    expect(push.rejected.filter((r) => r.subscriptionId === id).map((r) => r.status)).toEqual([413]);
  });

  it("reports a subscription with unusable keys as permanent without sending", async () => {
    const { subscription } = push.subscribe();
    const before = push.received.length + push.rejected.length;
    const broken = { ...subscription, keys: { ...subscription.keys, p256dh: "AAAA" } };
    await deliveryRejection(sender.send(broken, message("w-keys")), "permanent", [subscription.endpoint]);
    expect(push.received.length + push.rejected.length).toBe(before);
  });

  it("refuses a plain-http endpoint that is not on this machine", async () => {
    const { subscription } = push.subscribe();
    const remote = { ...subscription, endpoint: "http://push.example.com/push/abc" };
    await deliveryRejection(sender.send(remote, message("w-http")), "permanent", ["push.example.com/push/abc"]);
  });

  it("sends nowhere but the allowed push services: an internal address is refused before any request", async () => {
    const { subscription } = push.subscribe();
    // The browsers' push services only (the default): this test's own service is not one of them.
    const strict = new WebPushSender({ vapid: VAPID, timeoutMs: 2000 });
    const before = push.received.length + push.rejected.length;
    await deliveryRejection(strict.send(subscription, message("w-local")), "permanent", [subscription.endpoint]);
    for (const endpoint of [
      "https://169.254.169.254/latest/meta-data",
      "https://10.0.0.5:8443/admin",
      "https://fcm.googleapis.com.evil.test/x",
    ]) {
      const error = await deliveryRejection(strict.send({ ...subscription, endpoint }, message("w-ssrf")), "permanent", [
        endpoint,
      ]);
      expect(error.message).toMatch(/not on a known push service/);
    }
    expect(push.received.length + push.rejected.length).toBe(before);
  });

  it("reports a push service that is down as transient", async () => {
    const gone = await startPushEndpoint();
    const { subscription } = gone.subscribe();
    await gone.close();
    await deliveryRejection(sender.send(subscription, message("w-down")), "transient", [subscription.endpoint]);
  });
});
