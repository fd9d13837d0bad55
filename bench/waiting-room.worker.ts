/**
 * Buyers of bench/scenarios/waiting-room.ts, on a thread of their own: they arrive spread over
 * `arrivalMs`, take a place in the event's queue, ask for it again when the answer says to
 * (retryAfterSec, as a real client would), and once admitted order with the admission token
 * and pay; those told "sold out" stop.
 */
import type { BuyerRequest } from "./buyers.worker";
import { benchAgent, send } from "./load/http-client";
import { workerMain } from "./load/worker-thread";

export interface WaitingRoomData {
  apiUrl: string;
  eventId: string;
  requests: BuyerRequest[];
  arrivalMs: number;
}

export interface WaitingRoomResult {
  startedAt: number;
  joinMs: number[];
  joinFailures: Record<string, number>;
  /** Admitted buyers' POST /api/orders. */
  orderMs: number[];
  orderFailures: Record<string, number>;
  admitted: number;
  placed: number;
  paid: number;
  /** When each buyer told "sold out" heard it (epoch ms). */
  soldOutHeardAt: number[];
  polls: number;
  endedAt: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

interface Place {
  status: "waiting" | "admitted" | "sold_out" | "expired";
  retryAfterSec: number;
  admission?: { token: string };
}

async function run({ apiUrl, eventId, requests, arrivalMs }: WaitingRoomData): Promise<WaitingRoomResult> {
  const agent = benchAgent();
  const queueUrl = `${apiUrl}/events/${encodeURIComponent(eventId)}/queue`;
  const r: WaitingRoomResult = {
    startedAt: now(),
    joinMs: [],
    joinFailures: {},
    orderMs: [],
    orderFailures: {},
    admitted: 0,
    placed: 0,
    paid: 0,
    soldOutHeardAt: [],
    polls: 0,
    endedAt: 0,
  };
  const buyer = async ({ token, body }: BuyerRequest, arriveAt: number): Promise<void> => {
    await sleep(arriveAt - now());
    const t0 = now();
    let reply = await send<Place>(agent, "POST", queueUrl, { token });
    r.joinMs.push(now() - t0);
    if (reply.status !== 200)
      return void count(r.joinFailures, `${reply.status} ${(reply.body as { type?: string }).type ?? ""}`);
    for (;;) {
      const place = reply.body as Place;
      if (place.status === "sold_out") return void r.soldOutHeardAt.push(now());
      if (place.status === "expired") return void count(r.orderFailures, "admission expired");
      if (place.status === "admitted" && place.admission) break;
      await sleep(Math.max(1, place.retryAfterSec) * 1000);
      r.polls++;
      reply = await send<Place>(agent, "GET", queueUrl, { token });
      if (reply.status !== 200) return void count(r.joinFailures, `poll ${reply.status}`);
    }
    r.admitted++;
    const t1 = now();
    const order = await send<{ payment?: { confirmationUrl: string } }>(agent, "POST", `${apiUrl}/orders`, {
      token,
      body: { ...(body as object), admissionToken: (reply.body as Place).admission!.token },
    });
    r.orderMs.push(now() - t1);
    if (order.status !== 201 || !("payment" in order.body) || !order.body.payment)
      return void count(r.orderFailures, `${order.status} ${(order.body as { type?: string }).type ?? ""}`);
    r.placed++;
    const pay = await send(agent, "POST", `${order.body.payment.confirmationUrl}/pay`);
    if (pay.status < 400) r.paid++;
  };
  const step = arrivalMs / requests.length;
  await Promise.all(requests.map((request, i) => buyer(request, r.startedAt + i * step)));
  agent.destroy();
  r.endedAt = now();
  return r;
}

workerMain(run);
