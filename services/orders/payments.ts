import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { amountToMinor, isYookassaId, unlessNotFound, YookassaError, type Payment } from "../../lib/ports/yookassa/yookassa.port";
import { systemContext, type CommandContext } from "../../mixins/event-sourced.mixin";
import { confirmation, loadOrder, runOrderCommand, type OrdersService } from "./order-commands";
import { isPaid, paymentAction, type ProviderPayment } from "./orders.decider";
import type { OrderDoc } from "./orders.projection";
import type { Order } from "./orders.types";
import { issueTickets } from "./placing";
import { releaseIfClosed } from "./stock-release";
import { orderOfPayment, recordPointer, stateKey, type PaymentPointer } from "./pointers";

/** After an order closed with a payment attached: settle or cancel that payment (once per order). */
export function paymentOfClosedOrder(svc: OrdersService, order: Pick<Order, "id" | "payment">): Promise<void> {
  if (!order.payment) return Promise.resolve();
  return recordPointer(
    svc,
    `closed:${order.id}`,
    { type: "PaymentNotified", data: { paymentId: order.payment.id, event: "order.closed", orderId: order.id } },
    null,
  );
}

/**
 * At an order's deadline: has the buyer's payment been authorised meanwhile (its notification
 * lost or late)? Then it is handed to sales.payments to be sold (or cancelled if its tickets
 * went elsewhere) instead of the order expiring with the money held. A provider that does not
 * answer says nothing: the order expires, and its payment is then cancelled like any other.
 */
export async function authorisedAtDeadline(
  rt: Runtime,
  svc: OrdersService,
  order: Pick<Order, "id" | "payment">,
): Promise<boolean> {
  if (!order.payment || order.payment.closed) return false;
  const paymentId = order.payment.id;
  let payment: Payment | null;
  try {
    payment = await fetchPayment(rt, paymentId);
  } catch (err) {
    svc.logger.warn(`order ${order.id}: its payment could not be fetched at the deadline: ${(err as Error).message}`);
    return false;
  }
  if (payment?.status !== "waiting_for_capture") return false;
  await recordPointer(
    svc,
    stateKey(paymentId, payment.status),
    { type: "PaymentNotified", data: { paymentId, event: "order.deadline", orderId: order.id } },
    null,
  );
  return true;
}

/**
 * A payment notification: recorded when its id has YooKassa's format, the payment is attached
 * to one of our orders and the provider confirms a state worth acting on. Returns why it was
 * dropped, or null when recorded (or nothing needed doing).
 */
export async function paymentNotification(
  rt: Runtime,
  svc: OrdersService,
  object: Payment,
  event: string,
  requestID: string | null,
): Promise<string | null> {
  const paymentId = object.id;
  if (!isYookassaId(paymentId)) return "its object id is not a YooKassa id";
  const order = await orderOfPayment(rt, svc, paymentId, object.metadata.orderId);
  if (!order) return `payment ${paymentId} is attached to no order of ours`;
  // Our own capture's echo: whatever the provider says about a payment whose tickets are issued,
  // this notice changes nothing we do (a failed capture is retried by sales.payments itself).
  if (event === "payment.succeeded" && isPaid(order)) return null;
  const payment = await fetchPayment(rt, paymentId);
  if (!payment) return `the provider does not know payment ${paymentId}`;
  const seen = providerView(paymentId, payment);
  // Nothing to do (the buyer has not paid yet, or the order already shows it): no pointer. An
  // early notification leaves no trace, so the genuine one is not a repeat.
  if (paymentAction(order, seen).action === "none") return null;
  await recordPointer(
    svc,
    stateKey(paymentId, payment.status),
    { type: "PaymentNotified", data: { paymentId, event, orderId: order.id, seen: { ...seen, at: Date.now() } } },
    requestID,
  );
  return null;
}

/** The payment as the provider has it now; null when the provider does not know it. */
function fetchPayment(rt: Runtime, paymentId: string): Promise<Payment | null> {
  return unlessNotFound(rt.payments.getPayment(paymentId));
}

/**
 * The payment state recorded with the pointer, when it can stand for asking again: an
 * authorisation (only the shop can capture or cancel it, and this subscription is the shop's
 * one hand on it: one payment's pointers run one after another) seen moments ago. Anything
 * else, or anything older, is fetched again.
 */
function recentlySeen(pointer: PaymentPointer): ProviderPayment | null {
  const { seen } = pointer;
  if (!seen || !pointer.orderId || seen.id !== pointer.paymentId || seen.status !== "waiting_for_capture") return null;
  return Date.now() - seen.at <= SEEN_FRESH_MS ? seen : null;
}

/** How long an authorisation seen by the webhook is taken as the provider's word (YooKassa holds one for days). */
const SEEN_FRESH_MS = 30_000;

function providerView(paymentId: string, payment: Payment | null): ProviderPayment {
  if (!payment) return { id: paymentId, status: "unknown" };
  return { id: payment.id, status: payment.status, amount: amountToMinor(payment.amount), currency: payment.amount.currency };
}

/**
 * Acts on what the provider says about a payment now (never on what a notification claimed):
 * the decider's paymentAction says what to do, this carries it out. Every call to the provider
 * has an idempotence key, so a retry after a crash repeats nothing.
 */
export async function settlePayment(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const pointer = recorded.data as PaymentPointer;
  // Pointers recorded before the webhook checked ids may name anything: never let one stop the others.
  if (!isYookassaId(pointer.paymentId)) {
    svc.logger.warn(`payment pointer ${recorded.id} skipped: not a YooKassa id`);
    return;
  }
  const seen = recentlySeen(pointer);
  const payment = seen ? null : await fetchPayment(rt, pointer.paymentId);
  const provider = seen ?? providerView(pointer.paymentId, payment);
  const orderId = pointer.orderId ?? payment?.metadata.orderId;
  const order = orderId ? await loadOrder(rt, orderId) : null;
  const ctx = systemContext(recorded);
  const cancelAuthorisation = async (why: string) => {
    svc.logger.info(`payment ${pointer.paymentId}: cancelling the authorisation, ${why}`);
    let cancelled: Payment;
    try {
      // The status is in the key: a payment refused while pending may still be cancelled once authorised.
      cancelled = await rt.payments.cancelPayment(pointer.paymentId, {
        idempotenceKey: `cancel-${pointer.paymentId}-${provider.status}`,
      });
    } catch (err) {
      if (!(err instanceof YookassaError) || err.code !== "YOOKASSA_INVALID_REQUEST") throw err;
      // The provider refuses (e.g. it does not cancel a payment still waiting for the buyer): the sweep looks again later.
      svc.logger.info(`payment ${pointer.paymentId}: the provider refused to cancel it now: ${err.message}`);
      return;
    }
    if (order && cancelled.status === "canceled") await close(order, "canceled");
  };
  const close = async (of: Order, outcome: "canceled" | "unknown") => {
    let closed: Awaited<ReturnType<typeof runOrderCommand>>;
    try {
      closed = await runOrderCommand(
        svc,
        ctx,
        of.id,
        { type: "ClosePayment", id: of.id, paymentId: pointer.paymentId, outcome },
        "close-payment",
      );
    } catch (err) {
      if ((err as { type?: string }).type !== "ORDER_PAID") throw err;
      svc.logger.error(
        `payment ${pointer.paymentId} of order ${of.id}: ${outcome} after its tickets were issued; needs a person`,
      );
      return;
    }
    // A fast path: sales.stock-release gives the stock of the cancelled order back too.
    await releaseIfClosed(svc.broker, closed.state, "payment_failed");
  };
  if (!order) {
    svc.logger.warn(`payment ${pointer.paymentId} belongs to no order of ours`);
    if (provider.status === "waiting_for_capture") await cancelAuthorisation("it belongs to no order of ours");
    return;
  }
  const todo = paymentAction(order, provider);
  switch (todo.action) {
    case "none":
      return;
    case "alarm":
      svc.logger.error(`payment ${pointer.paymentId} of order ${order.id}: ${todo.why}; needs a person`);
      return;
    case "close":
      return close(order, todo.outcome);
    case "cancel":
      return cancelAuthorisation(todo.why);
    case "capture":
      await rt.payments.capturePayment(pointer.paymentId, { idempotenceKey: `capture-${order.id}` });
      return;
    case "sell":
      return sell(rt, svc, ctx, order, provider, cancelAuthorisation);
  }
}

/** Confirms the tickets, issues them and only then takes the money; a lost hold releases the money instead. */
async function sell(
  rt: Runtime,
  svc: OrdersService,
  ctx: CommandContext,
  order: Order,
  payment: ProviderPayment,
  cancelAuthorisation: (why: string) => Promise<void>,
): Promise<void> {
  try {
    await svc.broker.call("inventory.confirm", confirmation(order), { meta: { user: SYSTEM } });
  } catch (err) {
    if ((err as { type?: string }).type !== "HOLD_LOST") throw err;
    if (order.status === "awaiting_payment")
      await runOrderCommand(svc, ctx, order.id, { type: "CancelOrder", id: order.id, reason: "hold_lost" }, "hold-lost");
    await cancelAuthorisation("its tickets went to someone else");
    return;
  }
  try {
    await runOrderCommand(
      svc,
      ctx,
      order.id,
      {
        type: "IssueTickets",
        id: order.id,
        paymentId: payment.id,
        // paymentAction sells only a payment whose amount and currency match the order's.
        paidAmount: payment.amount!,
        paidCurrency: payment.currency!,
        tickets: issueTickets(order),
      },
      "issue",
    );
  } catch (err) {
    if ((err as { type?: string }).type !== "ORDER_CLOSED") throw err;
    // It expired or was cancelled after the confirm: sales.stock-release gives that sale back.
    await cancelAuthorisation("its order closed before the tickets were issued");
    return;
  }
  await rt.payments.capturePayment(payment.id, { idempotenceKey: `capture-${order.id}` });
}

/**
 * The reconciliation sweep: fetches the payment of every order that has waited for payment
 * longer than PAYMENT_RECONCILE_AFTER_MS, and of every closed order whose payment the provider
 * may still hold, and records a pointer when the provider's state says there is something to
 * do. Driven by the read model and keyed by the provider's state, so several nodes and
 * restarts only repeat what the log then drops: a lost or early notification strands nothing.
 */
export async function reconcilePayments(rt: Runtime, svc: OrdersService): Promise<void> {
  const before = Date.now() - rt.config.payments.reconcileAfterMs;
  const docs = svc.liveDocs<OrderDoc>();
  // Only orders flagged openPayment (a sparse index): see ordersProjection.
  const waiting = await docs.find(
    { openPayment: true, status: "awaiting_payment", payment: { $ne: null }, createdAt: { $lte: before } },
    { limit: RECONCILE_BATCH },
  );
  const closed = await docs.find(
    {
      openPayment: true,
      status: { $in: ["expired", "cancelled"] },
      payment: { $ne: null },
      "payment.closed": { $exists: false },
      updatedAt: { $lte: before },
    },
    { limit: RECONCILE_BATCH },
  );
  for (const order of [...waiting, ...closed]) {
    const paymentId = order.payment!.id;
    let payment: Payment | null;
    try {
      payment = await fetchPayment(rt, paymentId);
    } catch (err) {
      svc.logger.warn(`reconciliation: payment ${paymentId} could not be fetched: ${(err as Error).message}`);
      continue;
    }
    if (payment?.status === "pending" && order.status === "awaiting_payment") continue;
    await recordPointer(
      svc,
      stateKey(paymentId, payment?.status ?? "unknown"),
      { type: "PaymentNotified", data: { paymentId, event: "reconcile", orderId: order.id } },
      null,
    );
  }
}

const RECONCILE_BATCH = 500;
