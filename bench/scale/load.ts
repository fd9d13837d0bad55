/**
 * A steady concurrent load on the three requests issue 11 measures: the catalogue
 * (`GET /api/events`), a buyer's own orders (`GET /api/me/orders`, buyers with about twenty
 * orders each) and placing an order on the hot event (`POST /api/orders`). Closed loop: each
 * client sends its next request when the previous one is answered.
 */
import { percentile } from "../sale";
import { CATEGORY, customerOf, HOT_EVENT } from "./http-sales";

export interface LoadPlan {
  apiUrl: string;
  seconds: number;
  /** Concurrent clients per request kind. */
  clients: number;
  /** Tokens of buyers who have orders (GET /api/me/orders). */
  readers: string[];
  /** Tokens of buyers placing orders on the hot event, one order each in turn. */
  placers: string[];
}

export interface RouteFigures {
  route: string;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than the expected status, by status. */
  errors: Record<string, number>;
}

interface Route {
  name: string;
  expected: number;
  request(i: number): { path: string; init: RequestInit };
}

export async function runLoad(plan: LoadPlan, onTick?: () => void): Promise<RouteFigures[]> {
  let placed = 0;
  const routes: Route[] = [
    { name: "GET /api/events", expected: 200, request: () => ({ path: "/events", init: {} }) },
    {
      name: "GET /api/me/orders",
      expected: 200,
      request: (i) => ({
        path: "/me/orders",
        init: { headers: { authorization: `Bearer ${plan.readers[i % plan.readers.length]}` } },
      }),
    },
    {
      name: "POST /api/orders (hot event)",
      expected: 201,
      request: () => {
        const n = placed++;
        return {
          path: "/orders",
          init: {
            method: "POST",
            headers: { authorization: `Bearer ${plan.placers[n % plan.placers.length]}`, "content-type": "application/json" },
            body: JSON.stringify({
              eventId: HOT_EVENT,
              customer: customerOf(n),
              items: [{ categoryId: CATEGORY.categoryId, quantity: 1 }],
            }),
          },
        };
      },
    },
  ];
  const until = performance.now() + plan.seconds * 1000;
  const tick = onTick ? setInterval(onTick, 500) : null;
  try {
    return await Promise.all(
      routes.map(async (route) => {
        const ms: number[] = [];
        const errors: Record<string, number> = {};
        let i = 0;
        const client = async () => {
          while (performance.now() < until) {
            const { path, init } = route.request(i++);
            const t0 = performance.now();
            const status = await fetch(`${plan.apiUrl}${path}`, init).then(
              async (r) => (await r.arrayBuffer(), r.status),
              (err: Error) => `${err.message}`,
            );
            ms.push(performance.now() - t0);
            if (status !== route.expected) errors[String(status)] = (errors[String(status)] ?? 0) + 1;
          }
        };
        const t0 = performance.now();
        await Promise.all(Array.from({ length: plan.clients }, client));
        const elapsed = performance.now() - t0;
        ms.sort((a, b) => a - b);
        return {
          route: route.name,
          requests: ms.length,
          perSecond: Math.round((ms.length / elapsed) * 1000),
          p50Ms: percentile(ms, 50),
          p99Ms: percentile(ms, 99),
          maxMs: Number((ms[ms.length - 1] ?? 0).toFixed(1)),
          errors,
        };
      }),
    );
  } finally {
    if (tick) clearInterval(tick);
  }
}
