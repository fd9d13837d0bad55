/** Contract test: the real SMS.ru client against the simulator, over a real socket. */
import { SmsRuClient, type SmsRuClientOptions } from "../../../lib/ports/sms/smsru.client";
import { startSmsSimulator, type SmsSimulator } from "../../../lib/ports/sms/sms.simulator";
import { deliveryRejection } from "./delivery-rejection";

const API_ID = "sms-api-id-3c9e41d7-contract";
const PHONE = "+79001234567";
const REFUSED = "+79005550001";

let sim: SmsSimulator;

const clientFor = (options: Partial<SmsRuClientOptions> = {}) =>
  new SmsRuClient({ apiId: API_ID, baseUrl: sim.url, timeoutMs: 2000, ...options });

const secrets = [API_ID, PHONE.slice(1), REFUSED.slice(1)];

beforeAll(async () => {
  sim = await startSmsSimulator({ apiId: API_ID, refused: [REFUSED] });
});

afterEach(() => {
  sim.setFault(null);
  sim.clear();
});

afterAll(() => sim.close());

describe("sent", () => {
  it("sends the text to the number and returns SMS.ru's sms_id", async () => {
    const receipt = await clientFor({ sender: "Tickets" }).send({ id: "n-1", to: PHONE, text: "Ваш заказ 42 оплачен" });
    expect(sim.messages).toEqual([
      { smsId: receipt.providerId, to: PHONE, text: "Ваш заказ 42 оплачен", from: "Tickets", receivedAt: expect.any(String) },
    ]);
    expect(receipt.providerId).toMatch(/^\d{6}-\d+$/);
  });

  it("lists what it sent over HTTP for tests in another process", async () => {
    await clientFor().send({ id: "n-2", to: PHONE, text: "hello" });
    const listed = (await (await fetch(`${sim.url}/__sim/messages`)).json()) as { messages: Array<{ to: string; text: string }> };
    expect(listed.messages.map((m) => [m.to, m.text])).toEqual([[PHONE, "hello"]]);
  });
});

describe("refused", () => {
  it("reports a refused number as permanent, without the number or the api_id", async () => {
    const before = sim.requests;
    const error = await deliveryRejection(clientFor().send({ id: "n-3", to: REFUSED, text: "hi" }), "permanent", secrets);
    expect(error.message).toContain("n-3");
    expect(error.message).toContain("207");
    expect(sim.requests - before).toBe(1);
    expect(sim.messages).toEqual([]);
  });

  it("refuses a number that is not E.164 without asking the gateway", async () => {
    const before = sim.requests;
    await deliveryRejection(clientFor().send({ id: "n-4", to: "89001234567", text: "hi" }), "permanent", []);
    expect(sim.requests).toBe(before);
  });

  it("reports a wrong api_id (top-level ERROR) as transient, without the key", async () => {
    const wrong = "wrong-api-id-0b0b0b";
    const error = await deliveryRejection(clientFor({ apiId: wrong }).send({ id: "n-5", to: PHONE, text: "hi" }), "transient", [
      wrong,
      ...secrets,
    ]);
    expect(error.message).toContain("200");
  });
});

describe("transient", () => {
  it("reports 503 with Retry-After as transient, then the next attempt succeeds", async () => {
    sim.setFault({ status: 503, retryAfterSeconds: 7, times: 1 });
    const client = clientFor();
    const error = await deliveryRejection(client.send({ id: "n-6", to: PHONE, text: "again" }), "transient", secrets);
    expect(error.retryAfterMs).toBe(7000);
    expect(sim.messages).toEqual([]);
    await expect(client.send({ id: "n-6", to: PHONE, text: "again" })).resolves.toEqual({ providerId: expect.any(String) });
    expect(sim.messages.map((m) => m.text)).toEqual(["again"]);
  });

  it("reports 429 as transient with its Retry-After", async () => {
    sim.setFault({ status: 429, retryAfterSeconds: 30, times: 1 });
    const error = await deliveryRejection(clientFor().send({ id: "n-7", to: PHONE, text: "x" }), "transient", secrets);
    expect(error.retryAfterMs).toBe(30_000);
  });

  it("reports a top-level ERROR (service unavailable) as transient", async () => {
    sim.setFault({ statusCode: 220, times: 1 });
    const error = await deliveryRejection(clientFor().send({ id: "n-8", to: PHONE, text: "x" }), "transient", secrets);
    expect(error.message).toContain("220");
  });

  it("reports no answer in time as transient", async () => {
    sim.setFault({ delayMs: 3000, times: 1 });
    const error = await deliveryRejection(
      clientFor({ timeoutMs: 150 }).send({ id: "n-9", to: PHONE, text: "x" }),
      "transient",
      secrets,
    );
    expect(error.message).toContain("150 ms");
  });

  it("reports a gateway that is down as transient, and sends once it is back", async () => {
    await sim.setDown(true);
    try {
      const error = await deliveryRejection(clientFor().send({ id: "n-10", to: PHONE, text: "later" }), "transient", secrets);
      expect(error.message).toMatch(/ECONNREFUSED|network/);
    } finally {
      await sim.setDown(false);
    }
    await clientFor().send({ id: "n-10", to: PHONE, text: "later" });
    expect(sim.messages.map((m) => m.text)).toEqual(["later"]);
  });
});
