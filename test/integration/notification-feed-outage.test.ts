/**
 * Issue 10 §3: "Kafka down → the same" (every notification afterwards). A broker of this test's
 * own is SIGKILLed while purchases go on and started again on the same ports and data; the
 * publisher waits the outage out without moving its checkpoint, the consumer reconnects, and
 * every trigger written before, during and after the outage reaches the handler, in key order.
 */
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import type { FeedConsumer } from "../../services/notifications/feed-consumer";
import type { NotificationFeed } from "../../services/tickets/notification-feed";
import { backwards, expectedTriggers, feedConsumer, feedNames, recorder, startFeed, type Handled } from "../support/feed-harness";
import { ownKafka, type OwnKafka } from "../support/own-kafka";
import { writeCompletedOrder } from "../support/sales-writer";
import { waitFor } from "../support/wait";

describe("notification feed through a Kafka outage", () => {
  let kafka: OwnKafka;
  let store: EmbeddedStore;
  let feed: NotificationFeed | undefined;
  let consumer: FeedConsumer | undefined;

  beforeAll(async () => {
    kafka = await ownKafka();
    store = await EmbeddedStore.open({ logs: ["sales", "catalogue"] });
  }, 120_000);

  afterAll(async () => {
    await consumer?.stop();
    await feed?.stop();
    await store?.close();
    await kafka?.destroy();
  }, 60_000);

  test("Kafka killed during purchases, then started: every trigger is handed to the planner afterwards", async () => {
    const names = feedNames("feed.outage");
    const log = store.log("sales");
    feed = startFeed(store, kafka.brokers, names);
    await feed.start();
    const handled: Handled[] = [];
    const warnings: string[] = [];
    consumer = feedConsumer(kafka.brokers, names, recorder("a", handled), {
      logger: { info: () => undefined, warn: (...a: unknown[]) => warnings.push(a.join(" ")), error: () => undefined },
    });
    consumer.start();

    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        await writeCompletedOrder(log, n);
        written++;
        feed!.wake("sales");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const relay = async () => (await feed!.status())[0];
    await waitFor(
      "triggers flowing",
      async () => handled.length,
      (n) => n >= 50,
      { timeoutMs: 60_000 },
    );

    await kafka.stop("SIGKILL");
    const stoppedAt = Date.now();
    const writtenAtStop = written;
    const down = await waitFor("the publisher saw the outage", relay, (s) => /kafka/i.test(s.lastError ?? ""), {
      timeoutMs: 60_000,
    });
    await waitFor(
      "purchases during the outage",
      async () => ({ written: written - writtenAtStop, downMs: Date.now() - stoppedAt }),
      (s) => s.written >= 100 && s.downMs >= 10_000,
      { timeoutMs: 60_000 },
    );
    const handledDuringOutage = handled.length;
    await kafka.start();
    const outageMs = Date.now() - stoppedAt;
    const writtenAtRestart = written;
    await waitFor(
      "purchases after the restart",
      async () => written - writtenAtRestart,
      (n) => n >= 30,
      { timeoutMs: 60_000 },
    );
    writing = false;
    await writer;

    const expected = await expectedTriggers({ sales: log, catalogue: store.log("catalogue") });
    await waitFor(
      "every trigger handled",
      async () => [...expected.keys()].filter((id) => !handled.some((h) => h.eventId === id)).length,
      (missing) => missing === 0,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(expected.size).toBe(written);
    expect(backwards(handled)).toEqual([]);
    // What was written while the broker was down could only arrive after it came back.
    expect(writtenAtRestart - writtenAtStop).toBeGreaterThanOrEqual(100);
    expect(handledDuringOutage).toBeLessThanOrEqual(writtenAtStop);
    const recovered = await waitFor("the publisher recovered", relay, (s) => s.lag === 0 && s.lastError === null, {
      timeoutMs: 60_000,
    });
    expect(recovered.fault).toBeNull();
    expect(consumer.status().state).toBe("running");
    const repeats = handled.length - new Set(handled.map((h) => h.eventId)).size;
    console.log(
      `feed outage: broker down ${(outageMs / 1000).toFixed(1)} s, ${writtenAtRestart - writtenAtStop} purchases meanwhile; ` +
        `${expected.size} triggers all handled (${repeats} repeats); publisher said "${down.lastError}"; ` +
        `consumer warnings: ${warnings.length}`,
    );
  }, 300_000);
});
