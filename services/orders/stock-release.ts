import type { Service, ServiceBroker } from "moleculer";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { loadAggregate } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { Subscription } from "../../mixins/subscription.mixin";
import { SALES_LOG, type HoldLine, type ReleaseReason } from "../inventory/inventory.types";
import { orderDecider } from "./orders.decider";
import { orderStream, type Order, type OrderEvent, type OrderState } from "./orders.types";

const SYSTEM_CALL = { meta: { user: SYSTEM } };

type Closure = Extract<OrderEvent, { type: "OrderExpired" | "OrderCancelled" }>;
type Refund = Extract<OrderEvent, { type: "TicketsRefunded" }>;

/**
 * Gives back the stock of an order that is closed (expired or cancelled: final, no tickets can
 * follow). Anything else is left alone: an order a stale caller meant to close may have been
 * paid meanwhile, and its sale is then the buyer's.
 */
export async function releaseIfClosed(broker: ServiceBroker, order: OrderState, reason: ReleaseReason): Promise<void> {
  if (order?.status !== "expired" && order?.status !== "cancelled") return;
  await broker.call("inventory.releaseOrder", { eventId: order.eventId, orderId: order.id, reason }, SYSTEM_CALL);
}

function reasonOf(event: Closure): ReleaseReason {
  if (event.type === "OrderExpired") return "expired";
  return event.data.reason === "customer" ? "cancelled" : event.data.reason;
}

/** The inventory lines that a refund's tickets take back: per category, with their seats. */
export function returnedLines(order: Order, ticketIds: string[]): HoldLine[] {
  const lines = new Map<string, HoldLine>();
  for (const ticket of order.tickets.filter((t) => ticketIds.includes(t.id))) {
    let line = lines.get(ticket.categoryId);
    if (!line) lines.set(ticket.categoryId, (line = { categoryId: ticket.categoryId, quantity: 0 }));
    line.quantity++;
    if (ticket.seatId) line.seats = [...(line.seats ?? []), ticket.seatId];
  }
  return [...lines.values()];
}

/**
 * Every step of the order saga that takes stock has its compensation here, driven by the sales
 * log, so a crash between an order's decision and the inventory's call loses nothing:
 * - an order that expires or is cancelled (by its buyer, a failed payment, a lost hold, its
 *   event's cancellation) gives back whatever it still has in the inventory, held or sold but
 *   never issued; the inventory then refuses it any later hold or confirm;
 * - a refund puts its tickets on sale again, whatever becomes of the money.
 * A hold whose order was never recorded is not here: it lapses in the inventory by itself.
 * Both inventory commands are idempotent (by order and by refund id), so a replay changes nothing.
 */
async function compensate(rt: Runtime, broker: ServiceBroker, recorded: RecordedEvent): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as Closure | Refund;
  const order = await loadAggregate(rt.store.log(SALES_LOG), orderDecider, orderStream(event.data.id));
  // Imported orders were sold by a partner: nothing of them is in our inventory.
  if (!order || order.source) return;
  if (event.type === "TicketsRefunded") {
    const lines = returnedLines(order, event.data.ticketIds);
    if (lines.length === 0) return;
    await broker.call(
      "inventory.returnTickets",
      { eventId: order.eventId, saleId: order.id, returnId: event.data.refundId, lines },
      SYSTEM_CALL,
    );
    return;
  }
  await releaseIfClosed(broker, order, reasonOf(event));
}

export function StockRelease(rt: Runtime) {
  return Subscription<Service>(rt, {
    name: "sales.stock-release",
    log: SALES_LOG,
    types: ["OrderExpired", "OrderCancelled", "TicketsRefunded"],
    // One order's closure and refunds in order; different orders side by side.
    partitionBy: (event) => (event.data as { id: string }).id,
    concurrency: 16,
    async handle(event) {
      await compensate(rt, this.broker, event);
    },
  });
}
