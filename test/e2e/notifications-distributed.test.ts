/**
 * Issue 10 §3, distributed: a notifications process of its own over NATS, the MongoDB protocol
 * and Kafka. The sales node's ticket service publishes the triggers to the internal topic; the
 * notifications node consumes it as the group and sends the receipts to Mailpit over SMTP.
 * Then the notifications process is SIGKILLed while receipts are going out and started again:
 * no receipt is lost, and the repeats are at most what was in flight (NOTIFY_CONCURRENCY),
 * counted by Message-ID in Mailpit.
 */
import { startNode, stopNode } from "../support/cluster";
import { uniqueRecipient } from "../support/mailpit";
import { distinct, startNotifyCluster, type NotifyCluster } from "../support/notify-cluster";
import { waitFor } from "../support/wait";

/** Sends in flight on the notifications node: the most a SIGKILL may leave to be sent again. */
const IN_FLIGHT = 4;

interface Ready {
  nodes: Array<{ nodeID: string; runners: Array<{ name: string }> }>;
}

describe("notifications in a process of their own, fed through Kafka", () => {
  let n: NotifyCluster;

  beforeAll(async () => {
    n = await startNotifyCluster({
      NOTIFICATIONS_SESSION_TIMEOUT_MS: "8000",
      NOTIFY_CONCURRENCY: String(IN_FLIGHT),
      // A send claimed by the killed node is taken over this soon.
      NOTIFY_CLAIM_MS: "3000",
    });
  }, 120_000);

  afterAll(async () => n?.cluster.stop(), 60_000);

  test("a purchase on the sales node becomes a receipt e-mail sent by the notifications node", async () => {
    const recipient = uniqueRecipient("e2e-feed");
    await n.buy(recipient);
    const [receipt] = await waitFor(
      "the receipt in Mailpit",
      () => n.receipts(recipient),
      (m) => m.length >= 1,
      {
        timeoutMs: 90_000,
        show: (m) => `${m.length} so far\n${n.logs()}`,
      },
    );
    const message = await n.mail.client.message(receipt.ID);
    // The receipt of this order (its event named), with the tickets as a PDF.
    expect(message.Text).toContain("Show");
    expect(message.Attachments.some((a) => a.ContentType === "application/pdf")).toBe(true);
    // The way it came: the sales node publishes, the notify node consumes (no log subscription there).
    const admin = await n.issuer.mint({ sub: "root", roles: ["admin"] });
    const ready = await n.api<Ready>("GET", "/ready", { token: admin });
    const runners = Object.fromEntries(ready.body.nodes.map((node) => [node.nodeID, node.runners.map((r) => r.name)]));
    expect(runners.sales).toEqual(expect.arrayContaining(["notifications.feed.sales", "notifications.feed.catalogue"]));
    expect(runners.notify).toContain("notifications.feed.consumer");
    expect(runners.notify).not.toContain("notifications.sales");
  }, 180_000);

  test("the notifications process SIGKILLed mid-batch: no receipt lost, repeats at most what was in flight", async () => {
    const recipient = uniqueRecipient("e2e-kill");
    const orders = 30;
    // Purchases go on whatever happens to the notifications node: a purchase never waits for it.
    const buying = (async () => {
      for (let i = 0; i < orders; i++) await n.buy(recipient);
    })();
    // Some receipts are out, others not yet: the node is busy with them.
    const before = await waitFor(
      "receipts going out",
      () => n.receipts(recipient),
      (m) => m.length >= 3,
      { timeoutMs: 120_000, intervalMs: 100, show: (m) => `${m.length} so far` },
    );
    const old = n.notifier();
    await stopNode(old, "SIGKILL");
    const atKill = distinct(await n.receipts(recipient)).size;
    n.cluster.nodes.splice(n.cluster.nodes.indexOf(old), 1, startNode(old.name, old.env));
    await buying;

    const all = await waitFor(
      `${orders} distinct receipts`,
      () => n.receipts(recipient),
      (m) => distinct(m).size >= orders,
      { timeoutMs: 180_000, intervalMs: 500, show: (m) => `${distinct(m).size} distinct, ${m.length} in all\n${n.logs()}` },
    );
    // A send the killed node had claimed goes again once its claim (NOTIFY_CLAIM_MS) expires: give repeats time to show.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const final = await n.receipts(recipient);
    const repeats = final.length - distinct(final).size;
    expect(distinct(final).size).toBe(orders);
    expect(repeats).toBeLessThanOrEqual(IN_FLIGHT);
    console.log(
      `notifications SIGKILL: ${orders} receipts; ${before.length} arrived before the kill (${atKill} when it landed), ` +
        `${all.length} e-mails once all were in, ${final.length} in the end: ${repeats} repeated (at most ${IN_FLIGHT} in flight)`,
    );
  }, 360_000);
});
