/**
 * The buyers of bench/flash-sale.ts, on a thread of their own so the load generator does not
 * take its CPU from the server it measures: every buyer sends one order at once, then those
 * who got one pay on the simulator's checkout page.
 */
import { parentPort, workerData } from "node:worker_threads";

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

const now = () => performance.timeOrigin + performance.now();

async function run(apiUrl: string, requests: BuyerRequest[]): Promise<BuyersResult> {
  const reserveMs: number[] = [];
  const failures: Record<string, number> = {};
  const confirmationUrls: string[] = [];
  const startedAt = now();
  let lastReservationAt = startedAt;
  await Promise.all(
    requests.map(async ({ token, body }) => {
      const t0 = now();
      let status = 0;
      let reply: { type?: string; payment?: { confirmationUrl: string } } = {};
      try {
        const res = await fetch(`${apiUrl}/orders`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        status = res.status;
        reply = (await res.json()) as typeof reply;
      } catch (err) {
        reply = { type: (err as Error).message };
      }
      const t1 = now();
      reserveMs.push(t1 - t0);
      if (status === 201 && reply.payment) {
        confirmationUrls.push(reply.payment.confirmationUrl);
        lastReservationAt = Math.max(lastReservationAt, t1);
      } else {
        const key = `${status} ${reply.type ?? ""}`.trim();
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }),
  );
  const reservedAt = now();
  await Promise.all(confirmationUrls.map((url) => fetch(`${url}/pay`, { method: "POST", redirect: "manual" })));
  return { startedAt, lastReservationAt, reservedAt, paidAt: now(), reserveMs, placed: confirmationUrls.length, failures };
}

const { apiUrl, requests } = workerData as { apiUrl: string; requests: BuyerRequest[] };
run(apiUrl, requests).then(
  (result) => parentPort!.postMessage(result),
  (err: Error) => {
    throw err;
  },
);
