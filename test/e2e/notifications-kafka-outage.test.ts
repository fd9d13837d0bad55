/**
 * Issue 10 §3: "Kafka down → the same": every receipt arrives exactly once afterwards. The
 * distributed cluster of notifications-distributed.test.ts on a broker of this test's own,
 * SIGKILLed while buyers keep buying (a purchase never waits for a notification) and started
 * again on the same ports and data. The sales node's relay waits the outage out and the
 * notifications node's consumer reconnects; Mailpit then holds one e-mail per order.
 */
import { uniqueRecipient } from "../support/mailpit";
import { distinct, startNotifyCluster, type NotifyCluster } from "../support/notify-cluster";
import { ownKafka, type OwnKafka } from "../support/own-kafka";
import { waitFor } from "../support/wait";

describe("receipts through a Kafka outage, distributed", () => {
  let kafka: OwnKafka;
  let n: NotifyCluster;

  beforeAll(async () => {
    kafka = await ownKafka();
    n = await startNotifyCluster({ KAFKA_BROKERS: kafka.brokers.join(",") });
  }, 180_000);

  afterAll(async () => {
    await n?.cluster.stop();
    await kafka?.destroy();
  }, 60_000);

  test("Kafka killed during purchases, then started: every receipt arrives exactly once", async () => {
    const recipient = uniqueRecipient("e2e-kafka-down");
    let bought = 0;
    let buying = true;
    const buyer = (async () => {
      while (buying) {
        await n.buy(recipient);
        bought++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await waitFor(
      "receipts flowing",
      () => n.receipts(recipient),
      (m) => m.length >= 3,
      {
        timeoutMs: 120_000,
        show: (m) => `${m.length} so far\n${n.logs()}`,
      },
    );

    await kafka.stop("SIGKILL");
    const stoppedAt = Date.now();
    const boughtAtStop = bought;
    // Purchases go on while the broker is down.
    await waitFor(
      "purchases during the outage",
      async () => ({ bought: bought - boughtAtStop, downMs: Date.now() - stoppedAt }),
      (s) => s.bought >= 10 && s.downMs >= 10_000,
      { timeoutMs: 120_000 },
    );
    const boughtDuring = bought - boughtAtStop;
    await kafka.start();
    const outageMs = Date.now() - stoppedAt;
    const boughtAtRestart = bought;
    await waitFor(
      "purchases after the restart",
      async () => bought - boughtAtRestart,
      (k) => k >= 5,
      { timeoutMs: 120_000 },
    );
    buying = false;
    await buyer;

    await waitFor(
      `${bought} distinct receipts`,
      () => n.receipts(recipient),
      (m) => distinct(m).size >= bought,
      { timeoutMs: 180_000, intervalMs: 500, show: (m) => `${distinct(m).size} distinct, ${m.length} in all\n${n.logs()}` },
    );
    // Repeats (a batch the relay published again, a trigger redelivered) would show by now.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const final = await n.receipts(recipient);
    expect(distinct(final).size).toBe(bought);
    expect(final.length).toBe(bought);
    expect(boughtDuring).toBeGreaterThanOrEqual(10);
    console.log(
      `receipts through a Kafka outage: broker down ${(outageMs / 1000).toFixed(1)} s, ${boughtDuring} purchases meanwhile; ` +
        `${bought} orders, ${final.length} e-mails, ${distinct(final).size} distinct`,
    );
  }, 420_000);
});
