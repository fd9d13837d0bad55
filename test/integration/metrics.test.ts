import { readFileSync } from "node:fs";
import { join } from "node:path";
import { devIssuerOf, quickStartEnv, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";
import { createServer } from "node:net";
import { startNode, tail } from "../support/cluster";
import { freePort } from "../support/free-port";
import { startPrometheus, type PrometheusServer } from "../support/prometheus";
import { waitFor } from "../support/wait";

interface OrderReply {
  id: string;
  status: string;
  payment: { id: string; confirmationUrl: string } | null;
}

/**
 * What an operator sees: a real Prometheus scraping a quick start's METRICS_PORT every second,
 * while a customer buys a ticket over HTTP and pays on the simulator's checkout page.
 */
describe("metrics an operator scrapes", () => {
  let qs: QuickStartProcess;
  let prometheus: PrometheusServer;
  let metricsPort: number;
  let api: ReturnType<typeof apiClient>;

  /** The value of a query's single series, or 0 while Prometheus has none. */
  const value = async (promql: string) => {
    const result = await prometheus.query(promql);
    return result.length === 0 ? 0 : Number(result[0]!.value[1]);
  };
  const until = (what: string, promql: string, done: (v: number) => boolean) =>
    waitFor(`Prometheus to see ${what} (${promql})`, () => value(promql), done, { timeoutMs: 30_000, intervalMs: 500 });

  beforeAll(async () => {
    metricsPort = await freePort();
    qs = await startQuickStartProcess("metrics", { METRICS_PORT: String(metricsPort) });
    prometheus = await startPrometheus("metrics", [`127.0.0.1:${metricsPort}`]);
    api = apiClient(qs.apiUrl);
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    await qs?.stop();
  });

  test("a purchase moves the orders paid and the POST /api/orders requests Prometheus stores", async () => {
    // The scrape works before anything is sold: Moleculer's own figures and the runners' gauges.
    await until("the node up", `up{instance="127.0.0.1:${metricsPort}"}`, (v) => v === 1);
    await until("a runner's lag", `count(ticketing_runner_lag)`, (v) => v > 0);
    await until("the event loop's longest delay", `ticketing_eventloop_delay_max_seconds`, (v) => v > 0);
    expect(await value(`ticketing_orders_total{outcome="paid"}`)).toBe(0);

    const issuer = await devIssuerOf(qs.env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    const ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    const created = async (path: string, token: string, body: Record<string, unknown>) =>
      expect((await api("POST", path, { token, body })).status).toBeLessThan(300);
    await created("/organizers", admin, { id: "org", name: "Org" });
    await created("/venues", olga, {
      id: "club",
      name: "Club",
      address: "Arbat 1",
      city: "Moscow",
      timezone: "Europe/Moscow",
      layout: { sections: [{ id: "B", name: "Balcony", rows: [{ id: "1", seats: ["1", "2", "3", "4", "5", "6"] }] }] },
    });
    await created("/events", olga, {
      id: "gig",
      venueId: "club",
      name: "Gig",
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    });
    await created("/events/gig/categories", olga, {
      categoryId: "floor",
      name: "Floor",
      price: 150000,
      currency: "RUB",
      kind: "ga",
      quota: 5,
    });
    expect((await api("POST", "/events/gig/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability?: Record<string, { available: number }> }>("GET", "/events/gig"),
      (r) => r.body.availability?.floor?.available === 5,
    );

    const placed = await api<OrderReply>("POST", "/orders", {
      token: ann,
      body: {
        eventId: "gig",
        customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
        items: [{ categoryId: "floor", quantity: 2 }],
      },
    });
    expect(placed.status).toBe(201);
    const paid = await fetch(`${placed.body.payment!.confirmationUrl}/pay`, { method: "POST", redirect: "manual" });
    expect(paid.status).toBeLessThan(400);
    await eventually(
      () => api<OrderReply>("GET", `/orders/${placed.body.id}`, { token: ann }),
      (r) => r.body.status === "paid",
    );

    await until("the order paid", `ticketing_orders_total{outcome="paid"}`, (v) => v === 1);
    await until(
      "the request that placed it, by its route",
      `sum(ticketing_http_requests_total{method="POST",route="/api/orders",status="201"})`,
      (v) => v === 1,
    );
    await until("its two tickets as concert sales", `ticketing_tickets_sold_total{category="concert"}`, (v) => v === 2);
    // A second order the buyer cancels: placed and cancelled, never paid.
    const second = await api<OrderReply>("POST", "/orders", {
      token: ann,
      body: {
        eventId: "gig",
        customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
        items: [{ categoryId: "floor", quantity: 1 }],
      },
    });
    expect(second.status).toBe(201);
    expect((await api("POST", `/orders/${second.body.id}/cancel`, { token: ann })).status).toBe(200);
    await until("both orders placed", `ticketing_orders_total{outcome="placed"}`, (v) => v === 2);
    await until("the second one cancelled", `ticketing_orders_total{outcome="cancelled"}`, (v) => v === 1);
    await until("a hold for each", `ticketing_holds_placed_total`, (v) => v === 2);
    expect(await value(`ticketing_orders_total{outcome="paid"}`)).toBe(1);
    await until(
      "the provider's payment created",
      `sum(ticketing_provider_calls_total{operation="createPayment",outcome="ok"})`,
      (v) => v >= 1,
    );
    // The latency histogram's buckets answer a quantile (the dashboard takes it over a rate,
    // which needs traffic across two scrapes; one request is the whole history here).
    await until(
      "a p99 latency of POST /api/orders",
      `histogram_quantile(0.99, sum by (le) (ticketing_http_request_duration_seconds_bucket{method="POST",route="/api/orders"}))`,
      (v) => v > 0,
    );

    // Bounded labels: no order, payment or event id in any series, only route patterns; a
    // path no route matches is "unmatched", whatever it was.
    const typed = `typed-by-a-client-${Date.now()}`;
    expect((await fetch(`${qs.apiUrl}/${typed}`)).status).toBe(404);
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scraped).not.toContain(placed.body.id);
    expect(scraped).not.toContain(placed.body.payment!.id);
    expect(scraped).toContain('route="/api/orders/:id"');
    expect(scraped).not.toContain(typed);
    expect(scraped).toMatch(/^ticketing_http_requests_total\{[^}]*method="GET",route="unmatched",status="404"\} 1$/m);
    expect(scraped).toMatch(/^moleculer_request_total\{/m);

    // The compose dashboard's queries are PromQL this Prometheus accepts, and the flash-sale
    // panels have data now ($__range is what Grafana puts in for the time range).
    const dashboard = JSON.parse(readFileSync(join(__dirname, "../../deploy/grafana/dashboards/flash-sale.json"), "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const query = (expr: string) => prometheus.query(expr.replace("$__range", "5m"));
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr));
    for (const expr of exprs) await query(expr);
    const series = (expr: string) =>
      waitFor(
        `the dashboard's ${expr}`,
        () => query(expr),
        (r) => r.length > 0,
        { timeoutMs: 30_000 },
      );
    const sold = await series(exprs.find((e) => e.includes("increase(ticketing_tickets_sold_total"))!);
    expect(sold.map((r) => r.metric.category)).toEqual(["concert"]);
    expect((await series("max by (runner) (ticketing_runner_lag)")).length).toBeGreaterThan(3);
  }, 180_000);

  test("a METRICS_PORT another program holds stops the node with a message naming it", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const node = startNode("metrics-busy", quickStartEnv("metrics-busy", { METRICS_PORT: String(port) }));
      const code = await new Promise((resolve) => node.process.once("exit", resolve));
      expect({ code, said: tail(node).includes(`METRICS_PORT ${port}: cannot serve metrics`) }).toEqual({ code: 1, said: true });
    } finally {
      holder.close();
    }
  }, 90_000);
});
