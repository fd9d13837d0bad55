import { startApp, type App } from "../../lib/app/app";
import { fold } from "../../lib/eventlog/decider";
import { SALES_LOG } from "../../services/inventory/inventory.types";
import { orderDecider } from "../../services/orders/orders.decider";
import { orderStream } from "../../services/orders/orders.types";
import { apiClient } from "../support/api-client";
import { openSmallSale } from "../support/first-sale";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { writeCompletedOrder } from "../support/sales-writer";
import { waitFor } from "../support/wait";

jest.setTimeout(180_000);

/**
 * An event is cancelled while the orders read model has not yet seen a paid order of it. The
 * cancellation names its candidates from that read model, so it must wait for it: before, the
 * order was never refunded (found by saga-crash.test.ts on a busy CI machine).
 *
 * The lag is made, not hoped for: the paid order is written to the sales log directly (the
 * commits the orders service writes), which wakes no runner, and runners poll every 15 s.
 */
describe("an event's cancellation refunds a paid order the orders read model does not show yet", () => {
  const env = quickStartEnv("cancel-lag", { RUNNER_POLL_MS: "15000" });
  let app: App;

  beforeAll(async () => {
    app = await startApp(env);
  });
  afterAll(async () => app?.stop());

  test("the order is refunded once the read model has caught up", async () => {
    // The event of the sales writer's first order (event-1), on sale.
    const { organizer } = await openSmallSale(apiClient(app.apiUrl!), await devIssuerOf(env), "event-1");
    const log = app.runtime.store.log(SALES_LOG);
    const written = await writeCompletedOrder(log, 0);
    const statusOf = async () => fold(orderDecider, null, await log.readStream(orderStream(written.id)))?.status;
    expect(await statusOf()).toBe("paid");

    const cancelled = await apiClient(app.apiUrl!)("POST", "/events/event-1/cancel", {
      token: organizer,
      body: { reason: "storm" },
    });
    expect(cancelled.status).toBe(200);
    const status = await waitFor("the paid order to be refunded", statusOf, (s) => s === "refunded", {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect(status).toBe("refunded");
  });
});
