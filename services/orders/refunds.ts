import { createHash } from "node:crypto";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { RecordedEvent } from "../../lib/eventlog/types";
import type { CommandContext } from "../../mixins/event-sourced.mixin";
import { loadOrder, runOrderCommand, type OrdersService } from "./order-commands";
import { paymentOfClosedOrder } from "./payments";
import type { OrderDoc } from "./orders.projection";
import type { OrderEvent } from "./orders.types";

/**
 * A refund recorded on an order: return the money (the idempotence key is the refund id, so
 * a retry never refunds twice) and put the tickets back on sale.
 */
export async function settleRefund(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const data = recorded.data as Extract<OrderEvent, { type: "TicketsRefunded" }>["data"];
  // Free tickets (no payment) have no money to return.
  if (data.amount > 0 && data.paymentId) {
    await rt.payments.createRefund({
      paymentId: data.paymentId,
      amountMinor: data.amount,
      currency: data.currency,
      idempotenceKey: `refund-${data.refundId}`,
      description: `Refund of order ${data.id}`,
    });
  }
  const order = (await loadOrder(rt, data.id))!;
  const lines = new Map<string, { categoryId: string; quantity: number; seats?: string[] }>();
  for (const ticket of order.tickets.filter((t) => data.ticketIds.includes(t.id))) {
    let line = lines.get(ticket.categoryId);
    if (!line) lines.set(ticket.categoryId, (line = { categoryId: ticket.categoryId, quantity: 0 }));
    line.quantity++;
    if (ticket.seatId) line.seats = [...(line.seats ?? []), ticket.seatId];
  }
  await svc.broker.call(
    "inventory.returnTickets",
    { eventId: data.eventId, saleId: data.id, returnId: data.refundId, lines: [...lines.values()] },
    { meta: { user: SYSTEM } },
  );
}

/**
 * An event was cancelled: every paid order is refunded in full, every unpaid one cancelled.
 * The refund id is short and derived from the cancellation and the order, so the provider's
 * idempotence key stays within its 64 characters and a replay refunds nothing twice.
 */
export async function refundCancelledEvent(svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const eventId = (recorded.data as { id: string }).id;
  const orders = await svc
    .liveDocs<OrderDoc>()
    .find({ eventId, status: { $in: ["paid", "partially_refunded", "awaiting_payment"] } });
  for (const order of orders) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `${recorded.id}:${order.id}` }, requestID: null };
    if (order.status === "awaiting_payment") {
      const { state } = await runOrderCommand(
        svc,
        ctx,
        order.id,
        { type: "CancelOrder", id: order.id, reason: "event_cancelled" },
        "cancel",
      );
      await svc.broker.call("inventory.release", { eventId, holdId: order.id, reason: "cancelled" }, { meta: { user: SYSTEM } });
      if (state?.status === "cancelled") await paymentOfClosedOrder(svc, state);
    } else {
      await runOrderCommand(
        svc,
        ctx,
        order.id,
        {
          type: "RefundTickets",
          id: order.id,
          refundId: `cx-${createHash("sha256").update(`${recorded.id}:${order.id}`).digest("hex").slice(0, 32)}`,
        },
        "refund",
      ).catch((err: { type?: string }) => {
        if (err.type !== "NOT_REFUNDABLE") throw err;
      });
    }
  }
}
