import { randomUUID } from "node:crypto";
import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { notificationsCommand } from "../../lib/repl/notifications.command";
import { apiClient, eventually } from "../support/api-client";
import { freePort } from "../support/free-port";
import { ownMailpit, type OwnMailpit } from "../support/mailpit";
import { openNotifySale, type Buyer, type PaidOrder } from "../support/notify-sale";
import { startPushEndpoint, type PushEndpoint } from "../support/push-endpoint";
import { readPdfQr } from "../support/pdf-qr";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { waitFor } from "../support/wait";

interface NotificationRow {
  id: string;
  kind: string;
  channel: string;
  status: string;
  orderId: string;
  attempts: number;
  reason: string | null;
  lastError: string | null;
}

interface Page<T> {
  rows: T[];
  total: number;
}

/**
 * Notifications in the quick start (no Kafka: the service follows the logs itself), through
 * the real gateway, a real SMTP server (a Mailpit of the test's own, so its chaos triggers
 * can refuse mail) and the SMS and FCM simulators over HTTP.
 */
// Retries, the reminder sweep and a busy machine: generous bounds, no timing asserted.
jest.setTimeout(300_000);

describe("notifications in the quick start", () => {
  let mailpit: OwnMailpit;
  let push: PushEndpoint;
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let admin: string;
  let olga: string;
  let buyer: (label: string) => Promise<Buyer>;
  let buyAndPay: (who: Buyer, quantity?: number, event?: string) => Promise<PaidOrder>;

  beforeAll(async () => {
    mailpit = await ownMailpit();
    // A browser's push service of this test's own, on this machine: the one allowed besides none.
    push = await startPushEndpoint();
    const env = quickStartEnv("notifications", {
      WEBPUSH_ALLOWED_HOSTS: "127.0.0.1",
      SMTP_URL: mailpit.smtpUrl,
      MAIL_FROM: "Tickets <tickets@shop.test>",
      NOTIFY_RETRY_BASE_MS: "200",
      NOTIFY_RETRY_MAX_MS: "2000",
      NOTIFY_MAX_ATTEMPTS: "100",
      // The "soon" event below starts within this window; the "gig" one is years away.
      NOTIFY_REMINDER_BEFORE_MINUTES: "180",
      NOTIFY_REMINDER_SWEEP_MS: "1000",
      // Metrics on, to read the counters an operator scrapes.
      METRICS_PORT: String(await freePort()),
    });
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    const sale = await openNotifySale(api, issuer, "gig");
    ({ admin, olga, buyer, buyAndPay } = sale);
  });

  afterAll(async () => {
    await app?.stop();
    await mailpit?.destroy();
    await push?.close();
  });

  /** `ticketing_notifications_total` as this node counts it. */
  const counted = (kind: string, channel: string, outcome: string) =>
    (app.broker.metrics.getMetric("ticketing.notifications.total")?.get({ kind, channel, outcome })?.value as
      number | undefined) ?? 0;

  const adminList = (query: string) => api<Page<NotificationRow>>("GET", `/notifications?${query}`, { token: admin });

  test("a purchase sends the buyer one e-mail whose PDF has a page per ticket with its barcode as a QR code", async () => {
    const ann = await buyer("receipt");
    const order = await buyAndPay(ann, 2);
    const [summary] = await mailpit.client.waitForMessagesTo(ann.email, 1);
    const message = await mailpit.client.message(summary.ID);
    const pdfs = message.Attachments.filter((a) => a.ContentType === "application/pdf");
    expect(pdfs).toHaveLength(1);
    const { pageCount, pages } = readPdfQr(await mailpit.client.attachment(summary.ID, pdfs[0].PartID));
    expect(pageCount).toBe(2);
    expect(pages.flatMap((p) => p.qr).sort()).toEqual(order.tickets.map((t) => t.barcode).sort());
    const receipt = await eventually(
      () => adminList(`orderId=${order.id}&kind=order_paid`),
      (r) => r.body.rows.length === 1 && r.body.rows[0].status === "sent",
    );
    expect(summary.MessageID).toBe(`${receipt.body.rows[0].id}@shop.test`);
    // Nothing more arrives: the receipt went once.
    await eventually(
      async () => (await mailpit.client.messagesTo(ann.email)).length,
      (n) => n === 1,
    );
    const own = await api<Page<NotificationRow>>("GET", "/me/notifications", { token: ann.token });
    expect(own.body.rows.map((r) => [r.kind, r.channel, r.status])).toEqual([["order_paid", "email", "sent"]]);
    expect(JSON.stringify(own.body)).not.toContain(ann.email);
    expect(counted("order_paid", "email", "sent")).toBeGreaterThanOrEqual(1);
  });

  test("SMS and push go through their simulators when the buyer's preferences ask for them", async () => {
    const bob = await buyer("channels");
    const me = await api("PATCH", "/me", {
      token: bob.token,
      body: { preferences: { order_paid: { email: false, sms: true, push: true } } },
    });
    expect(me.status).toBe(200);
    const fcmToken = `fcm-${randomUUID()}`;
    expect((await api("POST", "/me/devices", { token: bob.token, body: { fcmToken, label: "phone" } })).status).toBe(201);
    const order = await buyAndPay(bob, 1);
    const sms = await waitFor(
      "the receipt by SMS",
      async () => app.runtime.notify!.smsSimulator!.messages.filter((m) => m.to === bob.phone),
      (found) => found.length >= 1,
      { timeoutMs: 60_000 },
    );
    expect(sms).toHaveLength(1);
    const pushes = await waitFor(
      "the receipt by push",
      async () => app.runtime.notify!.fcmSimulator!.deliveries.filter((d) => JSON.stringify(d).includes(fcmToken)),
      (found) => found.length >= 1,
      { timeoutMs: 60_000 },
    );
    expect(pushes).toHaveLength(1);
    const rows = await eventually(
      () => adminList(`orderId=${order.id}`),
      (r) => r.body.rows.length === 2 && r.body.rows.every((n) => n.status === "sent"),
    );
    expect(rows.body.rows.map((r) => r.channel).sort()).toEqual(["push", "sms"]);
    expect(await mailpit.client.messagesTo(bob.email)).toHaveLength(0);
  });

  test("Web Push: the browser subscribed with our VAPID key gets the receipt, encrypted for it alone", async () => {
    const wes = await buyer("webpush");
    await api("PATCH", "/me", {
      token: wes.token,
      body: { preferences: { order_paid: { email: false, sms: false, push: true } } },
    });
    const vapid = await api<{ publicKey: string }>("GET", "/push/vapid-public-key");
    const { id, subscription } = push.subscribe();
    const added = await api("POST", "/me/devices", { token: wes.token, body: { webPush: subscription, label: "Firefox" } });
    expect(added.status).toBe(201);
    const order = await buyAndPay(wes, 1);
    const [delivered] = await waitFor(
      "the receipt at the browser's push service",
      async () => push.received.filter((r) => r.subscriptionId === id),
      (found) => found.length >= 1,
      { timeoutMs: 60_000 },
    );
    // Signed with the key the browser subscribed with; decrypted with the subscription's own keys.
    expect(delivered.vapidKey).toBe(vapid.body.publicKey);
    const payload = JSON.parse(delivered.plaintext) as { title: string; data: { orderId: string; kind: string } };
    expect(payload.data).toMatchObject({ orderId: order.id, kind: "order_paid" });
    expect(payload.title).toEqual(expect.any(String));
    await eventually(
      () => adminList(`orderId=${order.id}&channel=push`),
      (r) => r.body.rows.length === 1 && r.body.rows[0].status === "sent",
    );
    expect(push.received.filter((r) => r.subscriptionId === id)).toHaveLength(1);
  });

  test("a device FCM reports gone fails without a retry and leaves the profile; the buyer's other device gets it", async () => {
    const fay = await buyer("gone");
    await api("PATCH", "/me", {
      token: fay.token,
      body: { preferences: { order_paid: { email: false, sms: false, push: true } } },
    });
    const [liveToken, staleToken] = [`fcm-${randomUUID()}`, `fcm-${randomUUID()}`];
    for (const fcmToken of [liveToken, staleToken]) {
      expect((await api("POST", "/me/devices", { token: fay.token, body: { fcmToken } })).status).toBe(201);
    }
    app.runtime.notify!.fcmSimulator!.unregister(staleToken);
    const order = await buyAndPay(fay, 1);
    const rows = await eventually(
      () => adminList(`orderId=${order.id}&channel=push`),
      (r) => r.body.rows.length === 2 && r.body.rows.every((n) => n.status === "sent" || n.status === "failed"),
      60_000,
    );
    expect(rows.body.rows.map((r) => [r.status, r.attempts]).sort()).toEqual([
      ["failed", 1],
      ["sent", 1],
    ]);
    const delivered = app.runtime.notify!.fcmSimulator!.deliveries.filter((d) => JSON.stringify(d).includes(liveToken));
    expect(delivered).toHaveLength(1);
    const devices = await eventually(
      () => api<{ rows: Array<{ kind: string }> }>("GET", "/me/devices", { token: fay.token }),
      (r) => r.body.rows.length === 1,
    );
    expect(devices.body.rows).toHaveLength(1);
  });

  test("a number the SMS gateway refuses ends failed, with the reason, and is not retried", async () => {
    const cleo = await buyer("refused");
    await api("PATCH", "/me", {
      token: cleo.token,
      body: { preferences: { order_paid: { email: true, sms: true, push: false } } },
    });
    app.runtime.notify!.smsSimulator!.refuse(cleo.phone);
    const order = await buyAndPay(cleo, 1);
    const failed = await eventually(
      () => adminList(`orderId=${order.id}&channel=sms`),
      (r) => r.body.rows[0]?.status === "failed",
      60_000,
    );
    expect(failed.body.rows[0]).toMatchObject({ attempts: 1, reason: expect.any(String) });
    expect(failed.body.rows[0].reason).not.toContain(cleo.phone);
    expect(counted("order_paid", "sms", "failed")).toBeGreaterThanOrEqual(1);
    const byStatus = await adminList(`status=failed&channel=sms&orderId=${order.id}`);
    expect(byStatus.body.total).toBe(1);
    // The e-mail of the same receipt went out regardless.
    await mailpit.client.waitForMessagesTo(cleo.email, 1);
  });

  test("an admin resends a sent receipt: it arrives again with the same Message-ID; buyers may not", async () => {
    const dan = await buyer("resend");
    const order = await buyAndPay(dan, 1);
    const [first] = await mailpit.client.waitForMessagesTo(dan.email, 1);
    const row = (
      await eventually(
        () => adminList(`orderId=${order.id}`),
        (r) => r.body.rows[0]?.status === "sent",
      )
    ).body.rows[0];
    expect((await api("POST", `/notifications/${row.id}/resend`, { token: dan.token })).status).toBe(403);
    const resent = await api<NotificationRow>("POST", `/notifications/${row.id}/resend`, { token: admin });
    expect(resent.status).toBe(200);
    const both = await mailpit.client.waitForMessagesTo(dan.email, 2);
    expect(both.map((m) => m.MessageID)).toEqual([first.MessageID, first.MessageID]);
    expect((await api("POST", "/notifications/nosuchnotification/resend", { token: admin })).status).toBe(404);
    const status = await notificationsCommand(app.broker, {});
    expect(status).toMatch(/email\s+\d+/);
  });

  test("SMTP down for 30 s during a flash sale: every purchase completes, then every receipt arrives exactly once", async () => {
    // A sale of its own on the same hall, so the other tests' tickets do not count.
    const ok = async (path: string, body?: unknown) => {
      const answer = await api("POST", path, { token: olga, body });
      if (answer.status >= 300) throw new Error(`POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    await ok("/events", {
      id: "rush",
      venueId: "hall",
      name: "Rush",
      category: "concert",
      startsAt: "2031-07-01T19:00:00+03:00",
      endsAt: "2031-07-01T22:00:00+03:00",
    });
    await ok("/events/rush/categories", {
      categoryId: "floor",
      name: "Floor",
      price: 150000,
      currency: "RUB",
      kind: "ga",
      quota: 30,
    });
    await ok("/events/rush/publish");
    const buyers = await Promise.all(Array.from({ length: 30 }, (_, i) => buyer(`rush-${i}`)));
    await eventually(
      () => api<{ availability?: Record<string, { available: number }> }>("GET", "/events/rush"),
      (r) => r.body.availability?.floor?.available === 30,
    );

    // Killed, not refusing: every connection to the SMTP port fails while it is down.
    await mailpit.stop();
    const downAt = Date.now();
    // Every buyer at once; each purchase completes (paid, tickets issued) without the mail server.
    const orders = await Promise.all(buyers.map((b) => buyAndPay(b, 1, "rush")));
    expect(orders.every((o) => o.status === "paid" && o.tickets.length === 1)).toBe(true);
    await waitFor(
      "every receipt to have failed at least once against the dead server",
      () => Promise.all(orders.map(async (o) => (await adminList(`orderId=${o.id}&kind=order_paid`)).body.rows[0])),
      (rows) => rows.every((r) => typeof r?.lastError === "string"),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const left = downAt + 30_000 - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    await mailpit.start();

    for (const b of buyers) await mailpit.client.waitForMessagesTo(b.email, 1, { timeoutMs: 120_000 });
    await eventually(
      () => Promise.all(orders.map(async (o) => (await adminList(`orderId=${o.id}&kind=order_paid`)).body.rows[0]?.status)),
      (statuses) => statuses.every((s) => s === "sent"),
      60_000,
    );
    for (const b of buyers) {
      const messages = await mailpit.client.messagesTo(b.email);
      expect(messages).toHaveLength(1);
    }
  });

  test("reminders, a moved event and a cancelled one reach the holders, with what happens to their money", async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const startsAt = Date.now() + 2 * 3_600_000;
    const created = await api("POST", "/events", {
      token: olga,
      body: {
        id: "soon",
        venueId: "hall",
        name: "Soon",
        category: "concert",
        startsAt: iso(startsAt),
        endsAt: iso(startsAt + 3_600_000),
      },
    });
    expect(created.status).toBe(201);
    const category = { categoryId: "floor", name: "Floor", price: 90000, currency: "RUB", kind: "ga", quota: 5 };
    expect((await api("POST", "/events/soon/categories", { token: olga, body: category })).status).toBe(201);
    expect((await api("POST", "/events/soon/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability?: Record<string, { available: number }> }>("GET", "/events/soon"),
      (r) => r.body.availability?.floor?.available === 5,
    );
    const eve = await buyer("holder");
    const paid = await buyAndPay(eve, 1, "soon");
    const kinds = async (orderId: string) =>
      (await adminList(`orderId=${orderId}&channel=email&pageSize=50`)).body.rows.map((r) => `${r.kind}:${r.status}`).sort();
    // The receipt, and the reminder the sweep finds (the event starts within the window).
    await waitFor(
      "the receipt and the reminder",
      () => kinds(paid.id),
      (k) => k.join() === "event_reminder:sent,order_paid:sent",
      {
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    );

    const unpaid = await buyer("unpaid");
    const waiting = await api<PaidOrder>("POST", "/orders", {
      token: unpaid.token,
      body: {
        eventId: "soon",
        customer: { email: unpaid.email, phone: unpaid.phone },
        items: [{ categoryId: "floor", quantity: 1 }],
      },
    });
    expect(waiting.status).toBe(201);

    // Moved by half an hour: the holder hears of it, and gets a reminder for the new start.
    expect((await api("PATCH", "/events/soon", { token: olga, body: { startsAt: iso(startsAt + 1_800_000) } })).status).toBe(200);
    await waitFor(
      "the change notice and a reminder for the new start",
      () => kinds(paid.id),
      (k) => k.join() === "event_changed:sent,event_reminder:sent,event_reminder:sent,order_paid:sent",
      { timeoutMs: 120_000, intervalMs: 500 },
    );

    expect((await api("POST", "/events/soon/cancel", { token: olga, body: { reason: "the band is ill" } })).status).toBe(200);
    const cancelled = await waitFor(
      "the cancellation notices",
      () => Promise.all([paid.id, waiting.body.id].map((id) => adminList(`orderId=${id}&kind=event_cancelled&channel=email`))),
      (pages) => pages.every((p) => p.body.rows[0]?.status === "sent"),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(cancelled.map((p) => p.body.total)).toEqual([1, 1]);
    // One e-mail per notification: receipt, two reminders, the change, the cancellation.
    expect(await mailpit.client.messagesTo(eve.email)).toHaveLength(5);
    expect(await mailpit.client.messagesTo(unpaid.email)).toHaveLength(1);
  });

  test("the VAPID public key is served to anyone", async () => {
    const answer = await api<{ publicKey: string }>("GET", "/push/vapid-public-key");
    expect(answer.status).toBe(200);
    expect(answer.body.publicKey).toMatch(/^[A-Za-z0-9_-]{80,}$/);
  });
});
