import type { IncomingMessage, Server } from "node:http";
import type { AppMetrics } from "../../lib/metrics/app-metrics";

/** What moleculer-web leaves on a request once a route matched it. */
type RoutedRequest = IncomingMessage & { $alias?: { method: string; fullPath: string } };

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Counts every answer of the gateway's server by the route pattern the gateway matched (e.g.
 * `/api/orders/:id`), never the URL: a path carries ids and whatever a client typed, and each
 * distinct value would be a series of its own. A request no route matched is `unmatched`.
 */
export function observeRequests(server: Server, metrics: AppMetrics): void {
  if (!metrics.enabled) return;
  server.on("request", (req: RoutedRequest, res) => {
    const started = process.hrtime.bigint();
    // "close" also comes for an answer cut short, which "finish" never reports.
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = METHODS.has(req.method ?? "") ? req.method! : "OTHER";
      const status = res.headersSent ? res.statusCode : 0;
      metrics.httpRequest(method, req.$alias?.fullPath ?? "unmatched", status, seconds);
    });
  });
}
