import { createHash } from "node:crypto";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { isYookassaId, unlessNotFound, type Refund } from "../../lib/ports/yookassa/yookassa.port";
import { systemContext, type CommandContext } from "../../mixins/event-sourced.mixin";
import { loadOrder, runOrderCommand, type OrdersService } from "./order-commands";
import type { OrderDoc } from "./orders.projection";
import type { OrderEvent } from "./orders.types";
import { paymentOfClosedOrder } from "./payments";
import { releaseIfClosed } from "./stock-release";
import { SALES_LOG } from "../inventory/inventory.types";

/** How long an event's cancellation waits for the orders read model before it is tried again. */
const CAUGHT_UP_WAIT_MS = 10_000;
import { orderOfPayment, recordPointer, stateKey, type RefundPointer } from "./pointers";

/**
 * A refund recorded on an order: return the money (the idempotence key is the refund id, so
 * a retry never refunds twice). The tickets go back on sale in sales.stock-release, whatever
 * becomes of the money.
 */
export async function settleRefund(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const data = recorded.data as Extract<OrderEvent, { type: "TicketsRefunded" }>["data"];
  // Free tickets (no payment) have no money to return.
  if (data.amount > 0 && data.paymentId) {
    const refund = await rt.payments.createRefund({
      paymentId: data.paymentId,
      amountMinor: data.amount,
      currency: data.currency,
      idempotenceKey: `refund-${data.refundId}`,
      description: `Refund of order ${data.id}`,
    });
    // The provider's id, so that its notifications about this refund can be matched to it.
    await recordRefund(svc, systemContext(recorded), data.id, data.refundId, refund);
  }
}

/**
 * An event was cancelled: every paid order is refunded in full, every unpaid one cancelled.
 * The refund id is short and derived from the cancellation and the order, so the provider's
 * idempotence key stays within its 64 characters and a replay refunds nothing twice.
 */
export async function refundCancelledEvent(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const eventId = (recorded.data as { id: string }).id;
  // The read model only names the candidates, so it must have seen every order written before
  // now: one it does not show yet (placed or paid a moment ago, the projection busy) would keep
  // its money for a cancelled event. Behind, the cancellation fails and its key is retried.
  const head = await rt.store.log(SALES_LOG).head();
  if (!(await svc.caughtUpTo(head, CAUGHT_UP_WAIT_MS))) {
    throw new Error(`event ${eventId}'s cancellation waits for the orders read model to reach sales position ${head}`);
  }
  // It may not show yet that an order was paid a moment ago, so each order's own stream
  // decides whether it is cancelled or refunded.
  const candidates = await svc
    .liveDocs<OrderDoc>()
    .find({ eventId, status: { $in: ["paid", "partially_refunded", "awaiting_payment"] } });
  for (const candidate of candidates) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `${recorded.id}:${candidate.id}` }, requestID: null };
    const order = await loadOrder(rt, candidate.id);
    if (order?.status === "awaiting_payment") {
      try {
        const { state } = await runOrderCommand(
          svc,
          ctx,
          order.id,
          { type: "CancelOrder", id: order.id, reason: "event_cancelled" },
          "cancel",
        );
        await releaseIfClosed(svc.broker, state, "event_cancelled");
        if (state?.status === "cancelled") await paymentOfClosedOrder(svc, state);
        continue;
      } catch (err) {
        // Paid in the meantime: refunded like the others.
        if ((err as { type?: string }).type !== "ORDER_PAID") throw err;
      }
    }
    await runOrderCommand(
      svc,
      ctx,
      candidate.id,
      {
        type: "RefundTickets",
        id: candidate.id,
        refundId: `cx-${createHash("sha256").update(`${recorded.id}:${candidate.id}`).digest("hex").slice(0, 32)}`,
      },
      "refund",
    ).catch((err: { type?: string }) => {
      if (err.type !== "NOT_REFUNDABLE") throw err;
    });
  }
}

function recordRefund(svc: OrdersService, ctx: CommandContext, orderId: string, refundId: string, refund: Refund) {
  return runOrderCommand(
    svc,
    ctx,
    orderId,
    { type: "RecordRefund", id: orderId, refundId, providerRefundId: refund.id, status: refund.status },
    `refund-${refund.status}`,
  );
}

/**
 * A refund notification: recorded when both ids have YooKassa's format, the payment is one of
 * our orders' and the refund is one we asked for (its provider id recorded on that order).
 * Returns why it was dropped, or null when recorded.
 */
export async function refundNotification(
  rt: Runtime,
  svc: OrdersService,
  object: Refund,
  event: string,
  requestID: string | null,
): Promise<string | null> {
  if (!isYookassaId(object.id) || !isYookassaId(object.payment_id)) return "its ids are not YooKassa ids";
  const order = await orderOfPayment(rt, svc, object.payment_id);
  const ours = order?.refunds?.find((r) => r.providerRefundId === object.id);
  if (!order || !ours) return `refund ${object.id} is not one we asked for`;
  const refund = await fetchRefund(rt, object.id);
  if (!refund) return `the provider does not know refund ${object.id}`;
  const pointer: RefundPointer = { refundId: refund.id, paymentId: refund.payment_id, event, orderId: order.id };
  await recordPointer(svc, stateKey(refund.id, refund.status), { type: "RefundNotified", data: pointer }, requestID);
  return null;
}

function fetchRefund(rt: Runtime, refundId: string): Promise<Refund | null> {
  return unlessNotFound(rt.payments.getRefund(refundId));
}

/** Records what the provider says of one of our refunds now; a cancelled one means the money did not go back. */
export async function settleRefundNotice(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const pointer = recorded.data as RefundPointer;
  const refund = await fetchRefund(rt, pointer.refundId);
  const order = await loadOrder(rt, pointer.orderId);
  const ours = order?.refunds?.find((r) => r.providerRefundId === pointer.refundId);
  if (!refund || !order || !ours) {
    svc.logger.warn(`refund ${pointer.refundId}: no longer known to the provider or to order ${pointer.orderId}; skipped`);
    return;
  }
  await recordRefund(svc, systemContext(recorded), order.id, ours.refundId, refund);
  if (refund.status === "canceled")
    svc.logger.error(
      `refund ${refund.id} of order ${order.id} was cancelled by the provider: the money did not go back; needs a person`,
    );
}

/**
 * The refunds still pending at the provider for longer than PAYMENT_RECONCILE_AFTER_MS are
 * fetched, so a lost notification (or one that came before we recorded the refund) leaves
 * none pending for ever. Keyed by the provider's state, like the payments' sweep.
 */
export async function reconcileRefunds(rt: Runtime, svc: OrdersService): Promise<void> {
  const before = Date.now() - rt.config.payments.reconcileAfterMs;
  const orders = await svc.liveDocs<OrderDoc>().find(
    // A generation projected before the flag (orders version 1) has none; the rebuild that
    // replaces it at start (version 2) brings them back within a round or two.
    { openRefunds: true, updatedAt: { $lte: before } },
    { limit: 500 },
  );
  for (const order of orders) {
    for (const ours of (order.refunds ?? []).filter((r) => r.status === "pending")) {
      let refund: Refund | null;
      try {
        refund = await fetchRefund(rt, ours.providerRefundId);
      } catch (err) {
        svc.logger.warn(`reconciliation: refund ${ours.providerRefundId} could not be fetched: ${(err as Error).message}`);
        continue;
      }
      if (!refund || refund.status === "pending") continue;
      const pointer: RefundPointer = { refundId: refund.id, paymentId: refund.payment_id, event: "reconcile", orderId: order.id };
      await recordPointer(svc, stateKey(refund.id, refund.status), { type: "RefundNotified", data: pointer }, null);
    }
  }
}
