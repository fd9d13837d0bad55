import { randomUUID } from "node:crypto";
import { METRICS } from "../../lib/metrics/app-metrics";
import { meteredPayments } from "../../lib/metrics/metered-payments";
import { YookassaClient } from "../../lib/ports/yookassa/yookassa.client";
import { YookassaError } from "../../lib/ports/yookassa/yookassa.port";
import { startYookassaSimulator, type YookassaSimulator } from "../../lib/ports/yookassa/yookassa.simulator";
import { testMetrics } from "../support/metrics";

/** Payment-provider calls as an operator counts them: by operation and outcome, over real HTTP. */
describe("payment provider metrics", () => {
  let sim: YookassaSimulator;
  beforeAll(async () => {
    sim = await startYookassaSimulator({ shopId: "shop", secretKey: "secret" });
  });
  afterAll(async () => sim?.close());

  test("a call that succeeds counts as ok, one the provider refuses under the error's stable code", async () => {
    const { metrics, figure } = testMetrics();
    const client = new YookassaClient({ shopId: "shop", secretKey: "secret", baseUrl: sim.apiUrl, retries: 0 });
    const payments = meteredPayments(client, "yookassa", metrics);
    const order = () => ({
      amountMinor: 150000,
      currency: "RUB",
      description: "2 tickets",
      returnUrl: "https://shop.example/orders/1",
      metadata: {},
      idempotenceKey: randomUUID(),
    });
    const created = await payments.createPayment(order());
    await payments.getPayment(created.id);
    sim.setFault({ status: 503, times: 1 });
    await expect(payments.createPayment(order())).rejects.toBeInstanceOf(YookassaError);

    const calls = (operation: string, outcome: string) =>
      figure(METRICS.providerCalls, { provider: "yookassa", operation, outcome });
    expect({
      createOk: calls("createPayment", "ok"),
      getOk: calls("getPayment", "ok"),
      createUnavailable: calls("createPayment", "yookassa_unavailable"),
    }).toEqual({ createOk: 1, getOk: 1, createUnavailable: 1 });
  });
});
