import { apiClient, eventually } from "../support/api-client";
import { freePort } from "../support/free-port";
import { ownMailpit, type OwnMailpit } from "../support/mailpit";
import { openNotifySale } from "../support/notify-sale";
import { devIssuerOf, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";
import { waitFor } from "../support/wait";

const CONCURRENCY = 4;
const ORDERS = 16;

jest.setTimeout(300_000);

/**
 * The quick start SIGKILLed while it sends a backlog of receipts, then started again on the
 * same data: no receipt is lost, and the only repeats are what was in flight (at most
 * NOTIFY_CONCURRENCY), each with the Message-ID of the first.
 */
describe("notifications: a node killed mid-send", () => {
  let mailpit: OwnMailpit;
  let node: QuickStartProcess | null = null;

  afterAll(async () => {
    await node?.stop();
    await mailpit?.destroy();
  });

  test("every receipt arrives, and at most what was in flight arrives twice", async () => {
    mailpit = await ownMailpit();
    const [port, simulatorPort] = [await freePort(), await freePort()];
    const fixed = {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      YOOKASSA_SIMULATOR_PORT: String(simulatorPort),
      SMTP_URL: mailpit.smtpUrl,
      MAIL_FROM: "Tickets <tickets@shop.test>",
      NOTIFY_CONCURRENCY: String(CONCURRENCY),
      NOTIFY_CLAIM_MS: "1000",
      NOTIFY_RETRY_BASE_MS: "200",
      NOTIFY_RETRY_MAX_MS: "1000",
      NOTIFY_MAX_ATTEMPTS: "100",
    };
    node = await startQuickStartProcess("notify-crash", fixed);
    const env = node.env;
    const api = apiClient(node.apiUrl);
    const sale = await openNotifySale(api, await devIssuerOf(env), "gig");
    // SMTP refuses while the orders are paid: the receipts wait as a backlog.
    await mailpit.client.setChaos({ Recipient: { ErrorCode: 451, Probability: 100 } });
    const buyers = await Promise.all(Array.from({ length: ORDERS }, (_, i) => sale.buyer(`crash-${i}`)));
    await Promise.all(buyers.map((b) => sale.buyAndPay(b)));
    await waitFor(
      "every receipt to be refused once",
      async () =>
        (
          await api<{ rows: Array<{ lastError: string | null }> }>("GET", "/notifications?kind=order_paid&pageSize=100", {
            token: sale.admin,
          })
        ).body.rows,
      (rows) => rows.length === ORDERS && rows.every((r) => r.lastError !== null),
      { timeoutMs: 120_000, intervalMs: 300 },
    );
    // SMTP is back; the node dies as soon as the first receipts are through, the rest in flight or waiting.
    await mailpit.client.resetChaos();
    const arrived = async () => (await mailpit.client.search("to:mail.test")).length;
    await waitFor("the first receipt after the refusals", arrived, (n) => n >= 1, { timeoutMs: 120_000, intervalMs: 20 });
    node.node.process.kill("SIGKILL");
    await new Promise((resolve) => node!.node.process.once("exit", resolve));

    node = await startQuickStartProcess("notify-crash", { ...fixed, DATA_DIR: env.DATA_DIR });
    const again = apiClient(node.apiUrl);
    for (const b of buyers) await mailpit.client.waitForMessagesTo(b.email, 1, { timeoutMs: 120_000 });
    await eventually(
      async () =>
        (await again<{ total: number }>("GET", "/notifications?kind=order_paid&status=sent", { token: sale.admin })).body.total,
      (total) => total === ORDERS,
      120_000,
    );
    let repeats = 0;
    for (const b of buyers) {
      const messages = await mailpit.client.messagesTo(b.email);
      // A repeat carries the first one's Message-ID, so a mail client shows one message.
      expect(new Set(messages.map((m) => m.MessageID)).size).toBe(1);
      repeats += messages.length - 1;
    }
    expect(repeats).toBeLessThanOrEqual(CONCURRENCY);
  });
});
