import { startApp, type App } from "../../lib/app/app";
import { fold } from "../../lib/eventlog/decider";
import { SALES_LOG } from "../../services/inventory/inventory.types";
import { orderDecider } from "../../services/orders/orders.decider";
import { orderStream } from "../../services/orders/orders.types";
import { apiClient } from "../support/api-client";
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
    const api = apiClient(app.apiUrl!);
    const issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org-1" });
    const ok = async (path: string, token: string, body?: unknown) => {
      const answer = await api("POST", path, { token, body });
      if (answer.status >= 300) throw new Error(`POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    await ok("/organizers", admin, { id: "org-1", name: "Org" });
    await ok("/venues", olga, {
      id: "hall",
      name: "Hall",
      address: "Arbat 1",
      city: "Moscow",
      timezone: "Europe/Moscow",
      layout: { sections: [{ id: "A", name: "A", rows: [{ id: "1", seats: ["1", "2"] }] }] },
    });
    // The event the sales writer's first order is for (event-1 of org-1).
    await ok("/events", olga, {
      id: "event-1",
      venueId: "hall",
      name: "Gig",
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    });
    await ok("/events/event-1/categories", olga, {
      categoryId: "dance-floor",
      name: "Floor",
      price: 350000,
      currency: "RUB",
      kind: "ga",
      quota: 2,
    });
    await ok("/events/event-1/publish", olga);

    const log = app.runtime.store.log(SALES_LOG);
    const written = await writeCompletedOrder(log, 0);
    const statusOf = async () => fold(orderDecider, null, await log.readStream(orderStream(written.id)))?.status;
    expect(await statusOf()).toBe("paid");

    await ok("/events/event-1/cancel", olga, { reason: "storm" });
    const status = await waitFor("the paid order to be refunded", statusOf, (s) => s === "refunded", {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect(status).toBe("refunded");
  });
});
