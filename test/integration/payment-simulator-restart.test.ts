import { freePort } from "../support/free-port";
import { apiClient, eventually } from "../support/api-client";
import { openSmallSale } from "../support/first-sale";
import { devIssuerOf, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";

/**
 * A buyer holds a checkout link while the quick start restarts (same DATA_DIR): the payment
 * simulator comes back on the same port with the same payments, so the link still works and
 * paying on it settles the order.
 */
describe("quick start: the payment simulator survives a restart", () => {
  let node: QuickStartProcess | undefined;
  afterAll(async () => node?.stop());

  test("a checkout link made before a restart still works after it, and paying settles the order", async () => {
    const port = await freePort();
    const simulatorPort = await freePort();
    const fixed = {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      YOOKASSA_SIMULATOR_PORT: String(simulatorPort),
    };
    node = await startQuickStartProcess("sim-restart", fixed);
    const { env } = node;
    const api = apiClient(node.apiUrl);
    const sale = await openSmallSale(api, await devIssuerOf(env), "gig");
    const order = await sale.buy(2);
    const checkout = order.payment!.confirmationUrl;
    expect(checkout).toBe(`http://127.0.0.1:${simulatorPort}/checkout/${order.payment!.id}`);
    expect((await fetch(checkout)).status).toBe(200);

    await node.stop();
    node = await startQuickStartProcess("sim-restart", { ...fixed, DATA_DIR: env.DATA_DIR });

    const page = await fetch(checkout);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="pay"');
    const paid = await fetch(`${checkout}/pay`, { method: "POST", redirect: "manual" });
    expect(paid.status).toBe(303);
    // The return URL was made before the restart: its capability still opens the order's page.
    const returnUrl = paid.headers.get("location")!;
    expect(returnUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/orders/${order.id}\\?t=`));
    await eventually(
      async () => {
        const res = await fetch(returnUrl);
        return { status: res.status, html: await res.text() };
      },
      (p) => p.status === 200 && p.html.includes('data-status="paid"'),
    );
    const settled = await eventually(
      () => api<{ status: string; tickets: unknown[] }>("GET", `/orders/${order.id}`, { token: sale.customer }),
      (r) => r.body.status === "paid",
    );
    expect(settled.body.tickets).toHaveLength(2);
    // The capture went through too: the provider's side of the payment is finished.
    await eventually(
      async () => (await fetch(checkout)).text(),
      (html) => html.includes("Payment succeeded"),
    );
  });
});
