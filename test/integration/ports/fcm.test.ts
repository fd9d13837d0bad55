/** Contract test: the real FCM HTTP v1 client (service-account OAuth) against the simulator, over a real socket. */
import { createServiceAccount, parseServiceAccount, type ServiceAccount } from "../../../lib/ports/push/fcm.account";
import { FcmClient } from "../../../lib/ports/push/fcm.client";
import { startFcmSimulator, type FcmSimulator } from "../../../lib/ports/push/fcm.simulator";
import type { PushMessage } from "../../../lib/ports/push/push.port";
import { deliveryRejection } from "./delivery-rejection";

const DEVICE = "fcm-device-token-a1b2c3d4e5f6:APA91b-contract";
const message = (id: string): PushMessage => ({
  id,
  title: "Заказ оплачен",
  body: "2 билета",
  data: { orderId: "o-1", kind: "order.paid" },
});

let sim: FcmSimulator;
let account: ServiceAccount;

const clientFor = (target = account, timeoutMs = 2000) =>
  new FcmClient({ account: parseServiceAccount(target), baseUrl: sim.url, timeoutMs });

beforeAll(async () => {
  sim = await startFcmSimulator();
  account = sim.createServiceAccount("tickets-contract");
});

afterEach(() => sim.setFault(null));

afterAll(() => sim.close());

describe("sent", () => {
  it("sends title, body and data to the device and returns FCM's message name", async () => {
    const receipt = await clientFor().send(DEVICE, message("p-1"));
    expect(receipt.providerId).toMatch(/^projects\/tickets-contract\/messages\/\d+$/);
    expect(sim.deliveries.find((d) => d.name === receipt.providerId)).toMatchObject({
      project: "tickets-contract",
      token: DEVICE,
      title: "Заказ оплачен",
      body: "2 билета",
      data: { orderId: "o-1", kind: "order.paid" },
    });
  });

  it("asks for one access token for many sends, concurrent ones included", async () => {
    const client = clientFor();
    const issued = sim.tokensIssued;
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.send(DEVICE, message(`p-many-${i}`))));
    for (let i = 0; i < 4; i++) await client.send(DEVICE, message(`p-seq-${i}`));
    expect(client.tokenExchanges).toBe(1);
    expect(sim.tokensIssued - issued).toBe(1);
  });

  it("renews the token once when FCM stops accepting it (401), and sends", async () => {
    const client = clientFor();
    await client.send(DEVICE, message("p-before"));
    sim.revokeTokens();
    await expect(client.send(DEVICE, message("p-after"))).resolves.toEqual({ providerId: expect.any(String) });
    expect(client.tokenExchanges).toBe(2);
  });

  it("renews a token that is about to expire", async () => {
    const shortLived = await startFcmSimulator({ tokenTtlSeconds: 1 });
    try {
      const client = new FcmClient({ account: parseServiceAccount(shortLived.createServiceAccount()), baseUrl: shortLived.url });
      await client.send(DEVICE, message("p-short-1"));
      // Renewed half-way through a 1 s lifetime: this wait outlasts it on any machine.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await client.send(DEVICE, message("p-short-2"));
      expect(client.tokenExchanges).toBe(2);
      expect(shortLived.deliveries).toHaveLength(2);
    } finally {
      await shortLived.close();
    }
  });
});

describe("credentials", () => {
  it("verifies the JWT's signature: an account signed with another key gets no token", async () => {
    // Same client_email as a trusted account, but the key is someone else's.
    const forged: ServiceAccount = { ...account, private_key: createServiceAccount(sim.tokenUri).account.private_key };
    const refused = sim.tokensRefused;
    const error = await deliveryRejection(clientFor(forged).send(DEVICE, message("p-forged")), "transient", [DEVICE]);
    expect(error.message).toContain("invalid_grant");
    expect(sim.tokensRefused - refused).toBe(1);
    expect(sim.deliveries.some((d) => d.data.orderId === "p-forged")).toBe(false);
  });

  it("refuses an account it does not know", async () => {
    const stranger = createServiceAccount(sim.tokenUri, "tickets-contract").account;
    await deliveryRejection(clientFor(stranger).send(DEVICE, message("p-stranger")), "transient", [DEVICE]);
  });

  it("refuses a bearer token it did not issue", async () => {
    const response = await fetch(`${sim.url}/v1/projects/tickets-contract/messages:send`, {
      method: "POST",
      headers: { authorization: "Bearer ya29.made-up", "content-type": "application/json" },
      body: JSON.stringify({ message: { token: DEVICE, notification: { title: "t", body: "b" } } }),
    });
    expect(response.status).toBe(401);
  });
});

describe("device gone", () => {
  it("reports an unregistered device (404 UNREGISTERED) as gone, without the token", async () => {
    const stale = "fcm-stale-device-9f8e7d6c5b4a";
    sim.unregister(stale);
    const error = await deliveryRejection(clientFor().send(stale, message("p-gone")), "gone", [stale]);
    expect(error.message).toContain("UNREGISTERED");
  });

  it("reports a token FCM calls invalid (400 INVALID_ARGUMENT on message.token) as gone", async () => {
    const strict = await startFcmSimulator({ strictTokens: true });
    try {
      const client = new FcmClient({ account: parseServiceAccount(strict.createServiceAccount()), baseUrl: strict.url });
      strict.register(DEVICE);
      await client.send(DEVICE, message("p-known"));
      await deliveryRejection(client.send("not-a-real-token", message("p-unknown")), "gone", ["not-a-real-token"]);
    } finally {
      await strict.close();
    }
  });
});

describe("transient and permanent", () => {
  it("reports 503 with Retry-After as transient, then the next attempt succeeds", async () => {
    const client = clientFor();
    sim.setFault({ status: 503, retryAfterSeconds: 12, times: 1 });
    const error = await deliveryRejection(client.send(DEVICE, message("p-retry")), "transient", [DEVICE]);
    expect(error.retryAfterMs).toBe(12_000);
    await expect(client.send(DEVICE, message("p-retry"))).resolves.toEqual({ providerId: expect.any(String) });
  });

  it("reports 429 as transient with its Retry-After", async () => {
    sim.setFault({ status: 429, retryAfterSeconds: 3, times: 1 });
    const error = await deliveryRejection(clientFor().send(DEVICE, message("p-429")), "transient", [DEVICE]);
    expect(error.retryAfterMs).toBe(3000);
  });

  it("reports a token endpoint that is down (5xx) as transient", async () => {
    sim.setFault({ status: 500, times: 1, on: "token" });
    await deliveryRejection(clientFor().send(DEVICE, message("p-token-down")), "transient", [DEVICE]);
  });

  it("reports a malformed message (400 on data) as permanent", async () => {
    const bad = { ...message("p-bad"), data: { count: 2 as unknown as string } };
    await deliveryRejection(clientFor().send(DEVICE, bad), "permanent", [DEVICE]);
  });

  it("reports sending for another project (403) as permanent", async () => {
    const other = { ...account, project_id: "someone-elses-project" };
    await deliveryRejection(clientFor(other).send(DEVICE, message("p-403")), "permanent", [DEVICE]);
  });
});
