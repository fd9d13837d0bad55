/**
 * The waiting room in front of a hot event: `buyers` arrive within `arrivalMs` for `tickets`,
 * take a place, follow the queue's answers, and order once admitted (automatic admission rate).
 * Measures the join answers, the admitted buyers' orders, how soon the waiting heard "sold out"
 * after the last ticket was held, and checks the sale (never oversold, no seat twice, no account
 * with two places).
 */
import { inventoryStream, SALES_LOG } from "../../services/inventory/inventory.types";
import { queueStream, WAITING_LOG } from "../../services/waiting-room/queue.types";
import { PaymentBook, SaleLedger, saleViolations } from "../../test/support/sale-invariants";
import type { BuyerRequest } from "../buyers.worker";
import { benchAgent, send } from "../load/http-client";
import type { WaitingRoomData, WaitingRoomResult } from "../waiting-room.worker";
import { BENCH_EVENT, buyerRequests, openBenchSale, percentile, settle } from "../sale";
import { runWorker } from "../load/worker-thread";
import type { BenchStack } from "../stack";

export interface WaitingRoomOptions {
  tickets: number;
  buyers: number;
  arrivalMs: number;
  rate: number | "auto";
  /** The buyers' tokens were used before the on-sale (their first use costs a signature check). */
  warm: boolean;
}

async function signedIn(apiUrl: string, requests: BuyerRequest[]): Promise<void> {
  const agent = benchAgent(32);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < requests.length) {
        const { token } = requests[next++];
        const me = await send(agent, "GET", `${apiUrl}/me`, { token });
        if (me.status !== 200) throw new Error(`GET /api/me answered ${me.status}`);
      }
    }),
  );
  agent.destroy();
}

export async function waitingRoom(stack: BenchStack, o: WaitingRoomOptions) {
  const sale = await openBenchSale(stack.api, stack.issuer, o.tickets);
  const olga = await stack.issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const room = await stack.api("PUT", `/events/${BENCH_EVENT}/waiting-room`, {
    token: olga,
    body: { opensAt: Date.now() - 1000, rate: o.rate },
  });
  if (room.status !== 200) throw new Error(`the waiting room was refused: ${room.status} ${JSON.stringify(room.body)}`);
  const requests = await buyerRequests(stack.issuer, sale, o.buyers);
  // Before the on-sale the buyers signed in and looked at their profile (as they do while the
  // countdown runs): the server has seen their tokens. Not measured.
  if (o.warm) await signedIn(stack.apiUrl, requests);
  const result = await runWorker<WaitingRoomResult>("waiting-room.worker.ts", {
    apiUrl: stack.apiUrl,
    eventId: BENCH_EVENT,
    requests,
    arrivalMs: o.arrivalMs,
  } satisfies WaitingRoomData);

  const ledger = new SaleLedger(stack.store, BENCH_EVENT);
  const left = await settle(ledger, (order) => !!order.payment, result.placed, 300_000);
  if (left > 0) throw new Error(`${left} of the ${result.placed} orders paid for did not settle within 300 s`);
  const payments = new PaymentBook();
  await payments.refresh(ledger.orders());
  const { violations, figures } = saleViolations(ledger, payments, { atRest: false });

  // From the logs: when the last ticket was held, when the queue said sold out, places per account.
  const holds = (await stack.store.log(SALES_LOG).readStream(inventoryStream(BENCH_EVENT))).filter((c) =>
    c.events.some((e) => e.type === "HoldPlaced"),
  );
  const lastHeldAt = holds.length ? holds[holds.length - 1].at : 0;
  const queue = await stack.store.log(WAITING_LOG).readStream(queueStream(BENCH_EVENT));
  const events = queue.flatMap((c) => c.events);
  const soldOutAt = (events.find((e) => e.type === "QueueSoldOut")?.data as { at: number } | undefined)?.at ?? null;
  const places = events.filter((e) => e.type === "PlaceTaken").map((e) => (e.data as { sub: string }).sub);
  const heardLagMs = result.soldOutHeardAt.map((at) => at - lastHeldAt).sort((a, b) => a - b);
  result.joinMs.sort((a, b) => a - b);
  result.orderMs.sort((a, b) => a - b);
  return {
    scenario: "waiting-room",
    mode: stack.mode,
    tickets: o.tickets,
    buyers: o.buyers,
    arrivalMs: o.arrivalMs,
    rate: o.rate,
    tokensSeenBefore: o.warm,
    sold: figures.sold,
    violations,
    places: places.length,
    accountsWithTwoPlaces: places.length - new Set(places).size,
    joinAnswered: result.joinMs.length - Object.values(result.joinFailures).reduce((a, b) => a + b, 0),
    joinFailures: result.joinFailures,
    p50JoinMs: percentile(result.joinMs, 50),
    p99JoinMs: percentile(result.joinMs, 99),
    admitted: result.admitted,
    placed: result.placed,
    paid: result.paid,
    orderFailures: result.orderFailures,
    p50AdmittedOrderMs: percentile(result.orderMs, 50),
    p99AdmittedOrderMs: percentile(result.orderMs, 99),
    toldSoldOut: result.soldOutHeardAt.length,
    soldOutDecidedAfterLastHoldMs: soldOutAt === null ? null : soldOutAt - lastHeldAt,
    p50SoldOutHeardAfterLastHoldMs: percentile(heardLagMs, 50),
    p99SoldOutHeardAfterLastHoldMs: percentile(heardLagMs, 99),
    polls: result.polls,
    elapsedMs: Math.round(result.endedAt - result.startedAt),
  };
}
