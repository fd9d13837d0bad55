/**
 * Buyers arriving at a steady rate whatever the service answers (an open loop: a slow answer
 * does not slow the arrivals, as it would with a fixed set of buyers waiting on each other).
 * Each buyer orders, then at once pays on the simulator's checkout page.
 */
import type { BuyerRequest } from "./buyers.worker";
import { benchAgent, send } from "./load/http-client";
import { workerMain } from "./load/worker-thread";

export interface OpenLoopData {
  apiUrl: string;
  requests: BuyerRequest[];
  /** Orders sent per second. */
  rate: number;
}

export interface OpenLoopResult {
  startedAt: number;
  endedAt: number;
  orderMs: number[];
  /** Orders placed and paid for: when the buyer pressed "pay" (epoch ms). */
  paid: Array<{ orderId: string; payAt: number }>;
  failures: Record<string, number>;
  /** How late the generator itself sent its requests at worst (its own lag, not the service's). */
  maxSendLagMs: number;
}

const now = () => performance.timeOrigin + performance.now();

async function run({ apiUrl, requests, rate }: OpenLoopData): Promise<OpenLoopResult> {
  const agent = benchAgent();
  const orderMs: number[] = [];
  const paid: OpenLoopResult["paid"] = [];
  const failures: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  let maxSendLagMs = 0;
  const startedAt = now();
  for (let i = 0; i < requests.length; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    maxSendLagMs = Math.max(maxSendLagMs, now() - due);
    const { token, body } = requests[i];
    pending.push(
      (async () => {
        const t0 = now();
        const res = await send<{ id: string; payment?: { confirmationUrl: string } }>(agent, "POST", `${apiUrl}/orders`, {
          token,
          body,
        });
        orderMs.push(now() - t0);
        if (res.status !== 201 || !("id" in res.body) || !res.body.payment) {
          const key = `${res.status} ${"type" in res.body ? res.body.type : ""}`.trim();
          failures[key] = (failures[key] ?? 0) + 1;
          return;
        }
        const payAt = now();
        const pay = await send(agent, "POST", `${res.body.payment.confirmationUrl}/pay`);
        if (pay.status >= 400) failures[`pay ${pay.status}`] = (failures[`pay ${pay.status}`] ?? 0) + 1;
        else paid.push({ orderId: res.body.id, payAt });
      })(),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { startedAt, endedAt: now(), orderMs, paid, failures, maxSendLagMs };
}

workerMain(run);
