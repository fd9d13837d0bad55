/**
 * The buyers of bench/flash-sale.ts, on a thread of their own so the load generator does not
 * take its CPU from the server it measures: every buyer sends one order at once, then those
 * who got one pay on the simulator's checkout page.
 */
import { benchAgent, send } from "./load/http-client";
import { workerMain } from "./load/worker-thread";

export interface BuyerRequest {
  token: string;
  body: unknown;
}

export interface BuyersResult {
  /** Epoch milliseconds (fractional), comparable across threads. */
  startedAt: number;
  lastReservationAt: number;
  reservedAt: number;
  paidAt: number;
  reserveMs: number[];
  placed: number;
  failures: Record<string, number>;
}

export interface BuyersData {
  apiUrl: string;
  requests: BuyerRequest[];
  /** false: only send the orders (the bare-server ceiling has nothing to pay for). */
  pay: boolean;
}

const now = () => performance.timeOrigin + performance.now();

async function run({ apiUrl, requests, pay }: BuyersData, progress: (phase: string) => void): Promise<BuyersResult> {
  const agent = benchAgent();
  const reserveMs: number[] = [];
  const failures: Record<string, number> = {};
  const confirmationUrls: string[] = [];
  const startedAt = now();
  let lastReservationAt = startedAt;
  await Promise.all(
    requests.map(async ({ token, body }) => {
      const t0 = now();
      const { status, body: reply } = await send<{ type?: string; payment?: { confirmationUrl: string } }>(
        agent,
        "POST",
        `${apiUrl}/orders`,
        { token, body },
      );
      const t1 = now();
      reserveMs.push(t1 - t0);
      if (status === 201 && "payment" in reply && reply.payment) {
        confirmationUrls.push(reply.payment.confirmationUrl);
        lastReservationAt = Math.max(lastReservationAt, t1);
      } else {
        const key = `${status} ${"type" in reply ? reply.type : ""}`.trim();
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }),
  );
  const reservedAt = now();
  progress("reserved");
  if (pay) await Promise.all(confirmationUrls.map((url) => send(agent, "POST", `${url}/pay`)));
  agent.destroy();
  return { startedAt, lastReservationAt, reservedAt, paidAt: now(), reserveMs, placed: confirmationUrls.length, failures };
}

workerMain(run);
