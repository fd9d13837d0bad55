import { startApp, type App } from "../../lib/app/app";
import { ORDER_PAGE_CSP, ticketQrSvg } from "../../lib/http/order-page";
import { freePort } from "../support/free-port";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";
import { openSmallSale } from "../support/first-sale";

/**
 * Where the payment provider sends the buyer back: the quick start's own page at the order's
 * return URL, reached over HTTP with no token but the link's capability.
 */
describe("the buyer's order page (the payment's return URL)", () => {
  let env: ReturnType<typeof quickStartEnv>;
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let sale: Awaited<ReturnType<typeof openSmallSale>>;
  let publicUrl: string;

  beforeAll(async () => {
    // The return URL is built from PUBLIC_URL: it must name the port the gateway listens on.
    const port = await freePort();
    env = quickStartEnv("order-page", { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    publicUrl = app.apiUrl!.replace(/\/api$/, "");
    sale = await openSmallSale(api, await devIssuerOf(env), "gig");
  });
  afterAll(async () => app?.stop());

  const page = async (url: string) => {
    const res = await fetch(url, { redirect: "manual" });
    return { status: res.status, headers: res.headers, html: await res.text() };
  };
  const statusOf = (html: string) => /data-status="([a-z_]+)"/.exec(html)?.[1];

  test("after paying on the checkout page the buyer lands on the order's page: status, then tickets with QR codes", async () => {
    const order = await sale.buy(2);
    const checkout = order.payment!.confirmationUrl;

    // Before paying: the page waits for the payment and reloads itself.
    const waiting = await page(app.runtime.orderLinks.url(order.id));
    expect(statusOf(waiting.html)).toBe("awaiting_payment");
    expect(waiting.html).toContain('<meta http-equiv="refresh" content="3">');
    expect(waiting.html).not.toContain('class="ticket"');

    // The return URL the provider was given, read back from the simulator's own redirect.
    const paid = await fetch(`${checkout}/pay`, { method: "POST", redirect: "manual" });
    expect(paid.status).toBe(303);
    const returnUrl = paid.headers.get("location")!;
    expect(returnUrl).toMatch(new RegExp(`^${publicUrl.replace(/[.]/g, "\\.")}/orders/${order.id}\\?t=[A-Za-z0-9_-]{43}$`));

    const first = await page(returnUrl);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(first.headers.get("content-security-policy")).toBe(ORDER_PAGE_CSP);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.headers.get("referrer-policy")).toBe("no-referrer");
    expect(["awaiting_payment", "paid"]).toContain(statusOf(first.html));

    const settled = await eventually(
      () => page(returnUrl),
      (p) => statusOf(p.html) === "paid",
    );
    expect(settled.html).not.toContain('http-equiv="refresh"');
    // What the buyer bought, with the event's name escaped, not interpreted.
    expect(settled.html).toContain("Night &#60;Gig&#62; &#38; &#34;Friends&#34;");
    expect(settled.html).not.toContain("<Gig>");
    expect(settled.html).toContain("5000.00 RUB");
    // Nothing personal beyond the order itself: not even the buyer's own contacts.
    expect(settled.html).not.toContain("ann@example.com");
    expect(settled.html).not.toContain("+79001234567");

    // One ticket block per issued ticket, each with the QR code of its barcode.
    const tickets = await api<{ rows: { barcode: string }[] }>("GET", `/orders/${order.id}/tickets`, { token: sale.customer });
    expect(tickets.body.rows).toHaveLength(2);
    const blocks = [...settled.html.matchAll(/<section class="ticket" data-barcode="([0-9A-F]+)">([\s\S]*?)<\/section>/g)];
    expect(blocks.map((b) => b[1]).sort()).toEqual(tickets.body.rows.map((t) => t.barcode).sort());
    for (const [, barcode, body] of blocks) {
      expect(body).toContain("<svg");
      // Drawn from the barcode itself: the same encoder gives the same code for it, and only for it.
      expect(body).toContain(await ticketQrSvg(barcode));
    }
    expect(await ticketQrSvg(blocks[0][1])).not.toEqual(await ticketQrSvg(blocks[1][1]));
  });

  test("no page without the order's own capability: a missing, wrong or borrowed token is a 404", async () => {
    const mine = await sale.buy(1);
    const other = await sale.buy(1);
    const link = app.runtime.orderLinks.url(mine.id);
    const token = new URL(link).searchParams.get("t")!;
    const otherToken = new URL(app.runtime.orderLinks.url(other.id)).searchParams.get("t")!;
    const flipped = (token[0] === "A" ? "B" : "A") + token.slice(1);

    expect((await page(link)).status).toBe(200);
    for (const url of [
      `${publicUrl}/orders/${mine.id}`,
      `${publicUrl}/orders/${mine.id}?t=`,
      `${publicUrl}/orders/${mine.id}?t=${flipped}`,
      `${publicUrl}/orders/${mine.id}?t=${token.slice(0, 20)}`,
      `${publicUrl}/orders/${mine.id}?t=${otherToken}`,
      `${publicUrl}/orders/${mine.id}?t=${token}&t=${token}`,
    ]) {
      const answer = await page(url);
      expect({ url, status: answer.status }).toEqual({ url, status: 404 });
      expect(answer.html).toContain("No such order");
      expect(answer.html).not.toContain(mine.id);
      expect(answer.headers.get("content-security-policy")).toBe(ORDER_PAGE_CSP);
    }
    // A valid capability for an order that does not exist is no door to anything either.
    const ghost = await page(app.runtime.orderLinks.url("no-such-order"));
    expect(ghost.status).toBe(404);
  });
});
