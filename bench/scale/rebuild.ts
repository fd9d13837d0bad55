/**
 * A rebuild of the orders projection the way an operator of the quick start asks for one:
 * `npm run repl` (the quick start with the admin console) and `projections rebuild
 * sales.orders`. Timed from the command until the new generation is the live one (the
 * projection's runners on /api/ready all belong to it and have caught up).
 */
import { startProduct, type ProductEnv } from "./product";

export const ORDERS_PROJECTION = "sales.orders";

export interface RebuildFigures {
  /** Milliseconds from the command until queries read the new generation. */
  ms: number;
  generation: string;
  /** The product's longest event-loop stall and p99 while it rebuilt. */
  stall: { maxMs: number; p99Ms: number };
  rssMb: number;
}

interface RunnerRow {
  runner: string;
  name: string;
  state: string;
  lag: number;
}

export async function rebuildOrders(env: ProductEnv, admin: string, nodeArgs: string[] = []): Promise<RebuildFigures> {
  const product = await startProduct(env, { script: "bin/repl.ts", nodeArgs });
  try {
    const rows = async () => {
      const res = await fetch(`${product.apiUrl}/ready`, { headers: { authorization: `Bearer ${admin}` } });
      const body = (await res.json()) as { nodes?: Array<{ runners: RunnerRow[] }> };
      return (body.nodes ?? []).flatMap((n) => n.runners).filter((r) => r.runner === ORDERS_PROJECTION);
    };
    const before = new Set((await rows()).map((r) => r.name));
    if (before.size !== 1) throw new Error(`expected one live generation of ${ORDERS_PROJECTION}, saw ${[...before].join(", ")}`);
    await product.loopDelay();
    let rssMb = 0;
    const t0 = performance.now();
    product.command(`projections rebuild ${ORDERS_PROJECTION}`);
    for (;;) {
      rssMb = Math.max(rssMb, product.rssMb());
      const now = await rows();
      // Switched: the old generation's runner has stopped and the new one is at the head.
      if (now.length > 0 && now.every((r) => !before.has(r.name) && r.lag === 0 && r.state !== "starting")) {
        const ms = performance.now() - t0;
        return { ms, generation: now[0].name, stall: await product.loopDelay(), rssMb };
      }
      if (performance.now() - t0 > 3 * 3_600_000) throw new Error(`${ORDERS_PROJECTION} did not switch within 3 hours`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await product.stop();
  }
}
