import type { Service } from "moleculer";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import type { OrderOutcome } from "../../lib/metrics/app-metrics";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { eventDecider } from "../events/events.decider";
import { eventStream } from "../events/events.types";
import { SALES_LOG } from "../inventory/inventory.types";
import type { OrderEvent } from "./orders.types";

type TicketsIssued = Extract<OrderEvent, { type: "TicketsIssued" }>["data"];

const OUTCOMES: Record<string, OrderOutcome> = {
  OrderPlaced: "placed",
  // Tickets follow a captured payment (or a free order): the sale is done.
  TicketsIssued: "paid",
  OrderExpired: "expired",
  OrderCancelled: "cancelled",
};

/**
 * The sales figures (orders by outcome, tickets sold per event category, holds) counted from
 * the sales log, the one place that says what really happened, whichever node or path did it.
 * A leased runner, so one node of a cluster counts each event. Only events recorded since this
 * process started: the counters are this process's, and the log's history on a first start
 * would show on a dashboard as one huge burst of sales.
 */
export function SalesMetrics(rt: Runtime) {
  const since = Date.now();
  return Subscription<Service>(rt, {
    name: "sales.metrics",
    log: SALES_LOG,
    types: [...Object.keys(OUTCOMES), "HoldPlaced"],
    partitionBy: byStream,
    concurrency: 4,
    async handle(event) {
      if (event.at < since) return;
      if (event.type === "HoldPlaced") return rt.metrics.holdPlaced();
      if (event.type === "TicketsIssued") await countSold(rt, event as RecordedEvent<TicketsIssued>);
      rt.metrics.order(OUTCOMES[event.type]!);
    },
  });
}

/** Per the event's category (a fixed list), never per event: event ids would be unbounded labels. */
async function countSold(rt: Runtime, event: RecordedEvent<TicketsIssued>): Promise<void> {
  const catalogued = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(event.data.eventId));
  rt.metrics.ticketsSold(catalogued?.category ?? "unknown", event.data.tickets.length);
}
