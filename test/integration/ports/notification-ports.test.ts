/**
 * The SMS and push ports as the runtime builds them from configuration: the production paths
 * (SMS.ru URL and api_id, an FCM service-account key file) against the simulators, the VAPID
 * pair and the FCM simulator's account shared through the store by every node, and
 * configuration mistakes stopping the start.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateVAPIDKeys } from "web-push";
import { ConfigError } from "../../../lib/config/env";
import type { NotificationsConfig } from "../../../lib/config/notifications";
import { startFcmSimulator, type FcmSimulator } from "../../../lib/ports/push/fcm.simulator";
import { createPushPort } from "../../../lib/ports/push/push.factory";
import { vapidKeys } from "../../../lib/ports/push/vapid-keys";
import { createSmsPort } from "../../../lib/ports/sms/sms.factory";
import { startSmsSimulator } from "../../../lib/ports/sms/sms.simulator";
import { startPushEndpoint, type PushEndpoint } from "../../support/push-endpoint";
import { BACKENDS, disposeTestStore, openTestStore, type TestStore } from "../../support/stores";

const log = { info: () => undefined };
const dir = mkdtempSync(join(tmpdir(), "notification-ports-"));
const message = { id: "n-ports-1", title: "Заказ оплачен", body: "1 билет", data: { orderId: "o-1" } };

let fcm: FcmSimulator;
let endpoint: PushEndpoint;

beforeAll(async () => {
  fcm = await startFcmSimulator();
  endpoint = await startPushEndpoint();
});

afterAll(async () => {
  await Promise.all([fcm.close(), endpoint.close()]);
});

const pushConfig = (
  overrides: Partial<NotificationsConfig["push"]["fcm"]> = {},
  vapid: Partial<NotificationsConfig["push"]["vapid"]> = {},
) => ({
  fcm: { provider: "simulator" as const, timeoutMs: 2000, ...overrides },
  vapid: { subject: "mailto:tickets@example.com", ...vapid },
  // The test's own push service on this machine.
  webPushHosts: ["127.0.0.1"],
});

async function withClosers<T>(run: (closers: Array<() => Promise<void>>) => Promise<T>): Promise<T> {
  const closers: Array<() => Promise<void>> = [];
  try {
    return await run(closers);
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

describe("SMS", () => {
  it("SMS_PROVIDER=smsru talks to SMSRU_URL with SMSRU_API_ID and SMS_SENDER", async () => {
    const gateway = await startSmsSimulator({ apiId: "prod-like-id" });
    try {
      await withClosers(async (closers) => {
        const port = await createSmsPort(
          { provider: "smsru", apiId: "prod-like-id", url: gateway.url, sender: "Tickets", timeoutMs: 2000 },
          log,
          closers,
        );
        expect(port.simulator).toBeNull();
        await port.sender.send({ id: "s-1", to: "+79001112233", text: "Ваш билет" });
      });
      expect(gateway.messages).toMatchObject([{ to: "+79001112233", text: "Ваш билет", from: "Tickets" }]);
    } finally {
      await gateway.close();
    }
  });

  it("SMS_PROVIDER=simulator starts one in-process and closes it with the runtime", async () => {
    let url = "";
    await withClosers(async (closers) => {
      const port = await createSmsPort({ provider: "simulator", timeoutMs: 2000 }, log, closers);
      url = port.simulator!.url;
      await port.sender.send({ id: "s-2", to: "+79001112233", text: "hi" });
      expect(port.simulator!.messages).toHaveLength(1);
    });
    await expect(fetch(`${url}/__sim/messages`)).rejects.toThrow();
  });
});

describe("push", () => {
  it.each(BACKENDS)("FCM_PROVIDER=fcm reads the key file; both kinds of device are served (%s store)", async (kind) => {
    const store: TestStore = await openTestStore(kind, { memory: true });
    try {
      const file = join(dir, `account-${kind}.json`);
      writeFileSync(file, JSON.stringify(fcm.createServiceAccount("tickets-prod-like")));
      await withClosers(async (closers) => {
        const port = await createPushPort(
          pushConfig({ provider: "fcm", serviceAccountFile: file, url: fcm.url }),
          store.store,
          log,
          closers,
        );
        expect(port.fcmSimulator).toBeNull();
        const receipt = await port.sender.send({ kind: "fcm", token: `device-${kind}` }, message);
        expect(receipt.providerId).toMatch(/^projects\/tickets-prod-like\/messages\//);
        const { id, subscription } = endpoint.subscribe();
        await port.sender.send({ kind: "webpush", subscription }, message);
        const got = endpoint.received.filter((r) => r.subscriptionId === id);
        expect(got.map((r) => JSON.parse(r.plaintext))).toEqual([{ ...message }]);
        expect(got[0]!.vapidKey).toBe(port.sender.vapidPublicKey);
      });
      expect(fcm.deliveries.filter((d) => d.token === `device-${kind}`)).toHaveLength(1);
    } finally {
      await disposeTestStore(store);
    }
  });

  it.each(BACKENDS)(
    "nodes starting together share one generated VAPID pair, kept for the next start (%s store)",
    async (kind) => {
      const store = await openTestStore(kind, { memory: true });
      try {
        const pairs = await Promise.all([vapidKeys(store.store, {}), vapidKeys(store.store, {}), vapidKeys(store.store, {})]);
        expect(new Set(pairs.map((p) => p.publicKey)).size).toBe(1);
        expect(await vapidKeys(store.store, {})).toEqual(pairs[0]);
        await withClosers(async (closers) => {
          const port = await createPushPort(pushConfig(), store.store, log, closers);
          expect(port.sender.vapidPublicKey).toBe(pairs[0]!.publicKey);
          expect(port.fcmSimulator).not.toBeNull();
        });
      } finally {
        await disposeTestStore(store);
      }
    },
  );

  it.each(BACKENDS)(
    "the built-in FCM simulator's account is made once, shared by nodes and kept for the next start (%s store)",
    async (kind) => {
      const store = await openTestStore(kind, { memory: true });
      const secrets = store.store.collection("secrets");
      try {
        expect(await secrets.get("fcm-simulator")).toBeNull();
        // Nodes starting together: one key pair is kept, and each node's simulator trusts it.
        const started = await withClosers(async (closers) => {
          const ports = await Promise.all([1, 2].map(() => createPushPort(pushConfig(), store.store, log, closers)));
          for (const [i, port] of ports.entries()) {
            const receipt = await port.sender.send({ kind: "fcm", token: `device-${kind}-${i}` }, message);
            expect(receipt.providerId).toMatch(/^projects\/ticketing-simulator\/messages\//);
            expect(port.fcmSimulator!.deliveries.map((d) => d.token)).toEqual([`device-${kind}-${i}`]);
          }
          return secrets.get("fcm-simulator");
        });
        expect(started).not.toBeNull();
        // The next start reads the same account, with a new simulator (on a new port) trusting it.
        await withClosers(async (closers) => {
          const port = await createPushPort(pushConfig(), store.store, log, closers);
          await port.sender.send({ kind: "fcm", token: `device-${kind}-again` }, message);
          expect(port.fcmSimulator!.deliveries).toHaveLength(1);
        });
        expect(await secrets.get("fcm-simulator")).toEqual(started);
      } finally {
        await disposeTestStore(store);
      }
    },
  );

  it("uses the configured VAPID pair and refuses a mismatched one at start", async () => {
    const store = await openTestStore("embedded", { memory: true });
    try {
      const pair = generateVAPIDKeys();
      await withClosers(async (closers) => {
        const port = await createPushPort(pushConfig({}, pair), store.store, log, closers);
        expect(port.sender.vapidPublicKey).toBe(pair.publicKey);
      });
      const mismatched = { publicKey: pair.publicKey, privateKey: generateVAPIDKeys().privateKey };
      const started = withClosers((closers) => createPushPort(pushConfig({}, mismatched), store.store, log, closers));
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(/VAPID_PUBLIC_KEY.*does not belong/);
    } finally {
      await disposeTestStore(store);
    }
  });

  it("names FCM_SERVICE_ACCOUNT_FILE when the key file is missing or not a service account", async () => {
    const store = await openTestStore("embedded", { memory: true });
    try {
      const missing = join(dir, "no-such-file.json");
      await expect(
        withClosers((closers) =>
          createPushPort(pushConfig({ provider: "fcm", serviceAccountFile: missing }), store.store, log, closers),
        ),
      ).rejects.toThrow(/FCM_SERVICE_ACCOUNT_FILE: cannot read .*ENOENT/);
      const notAnAccount = join(dir, "not-an-account.json");
      writeFileSync(notAnAccount, JSON.stringify({ project_id: "p", client_email: "a@b", private_key: "not a key" }));
      await expect(
        withClosers((closers) =>
          createPushPort(pushConfig({ provider: "fcm", serviceAccountFile: notAnAccount }), store.store, log, closers),
        ),
      ).rejects.toThrow(/FCM_SERVICE_ACCOUNT_FILE: .*private_key is not a PEM/);
    } finally {
      await disposeTestStore(store);
    }
  });
});
