import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { DomainError, type Decider } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { amountToMinor, YookassaError, type Payment } from "../../lib/ports/yookassa/yookassa.port";
import { systemContext, type CommandContext } from "../../mixins/event-sourced.mixin";
import { confirmation, loadOrder, runOrderCommand, type OrdersService } from "./order-commands";
import { issueTickets } from "./placing";

/** A payment notification as recorded: only a pointer; the payment itself is always fetched. */
type NotificationEvent = { type: "PaymentNotified"; data: { paymentId: string; event: string } };
export const notifications: Decider<{ paymentId: string; event: string }, NotificationEvent, null> = {
  initialState: () => null,
  decide: (command) => [{ type: "PaymentNotified", data: command }],
  evolve: () => null,
};

/** Records a notification (a pointer to a payment) for the sales.payments subscription. */
export async function recordNotification(
  svc: OrdersService,
  requestID: string | null,
  commandId: string,
  paymentId: string,
  event: string,
): Promise<void> {
  const record: CommandContext = { meta: { user: SYSTEM, commandId }, requestID };
  await svc.execute(record, notifications, `payment-${paymentId}`, { paymentId, event }, "notified");
}

/**
 * Acts on what the provider says about a payment (fetched, never taken from the webhook):
 * authorised → confirm the tickets, issue them, then capture; otherwise cancel the
 * authorisation so the buyer is never charged for tickets they did not get.
 */
export async function settlePayment(rt: Runtime, svc: OrdersService, recorded: RecordedEvent): Promise<void> {
  const { paymentId } = recorded.data as { paymentId: string };
  let payment: Payment;
  try {
    payment = await rt.payments.getPayment(paymentId);
  } catch (err) {
    if (err instanceof YookassaError && err.code === "YOOKASSA_NOT_FOUND") {
      svc.logger.warn(`payment ${paymentId}: the provider does not know it; notification ignored`);
      return;
    }
    throw err;
  }
  const ctx = systemContext(recorded);
  const cancelAuthorisation = () => rt.payments.cancelPayment(payment.id, { idempotenceKey: `cancel-${payment.id}` });
  const orderId = payment.metadata?.orderId;
  const order = orderId ? await loadOrder(rt, orderId) : null;
  if (!order || order.payment?.id !== payment.id) {
    svc.logger.warn(`payment ${payment.id} belongs to no order of ours`);
    if (payment.status === "waiting_for_capture") await cancelAuthorisation();
    return;
  }
  const release = (reason: "payment_failed" | "cancelled") =>
    svc.broker.call("inventory.release", { eventId: order.eventId, holdId: order.id, reason }, { meta: { user: SYSTEM } });

  if (payment.status === "canceled") {
    if (order.status === "awaiting_payment") {
      await runOrderCommand(
        svc,
        ctx,
        order.id,
        { type: "CancelOrder", id: order.id, reason: "payment_failed" },
        "payment-canceled",
      );
      await release("payment_failed");
    }
    return;
  }
  if (payment.status !== "waiting_for_capture") return;
  if (order.status === "paid") {
    await rt.payments.capturePayment(payment.id, { idempotenceKey: `capture-${order.id}` });
    return;
  }
  if (order.status !== "awaiting_payment" && order.status !== "expired") {
    await cancelAuthorisation();
    return;
  }
  if (amountToMinor(payment.amount) !== order.amount || payment.amount.currency !== order.currency) {
    svc.logger.error(
      `payment ${payment.id}: amount ${payment.amount.value} ${payment.amount.currency} does not match order ${order.id}; cancelled`,
    );
    await cancelAuthorisation();
    return;
  }
  try {
    await svc.broker.call("inventory.confirm", confirmation(order), { meta: { user: SYSTEM } });
  } catch (err) {
    if ((err as { type?: string }).type !== "HOLD_LOST") throw err;
    await cancelAuthorisation();
    await runOrderCommand(svc, ctx, order.id, { type: "CancelOrder", id: order.id, reason: "hold_lost" }, "hold-lost").catch(
      (e) => {
        if (!(e instanceof DomainError) && (e as { type?: string }).type !== "ORDER_PAID") throw e;
      },
    );
    return;
  }
  await runOrderCommand(
    svc,
    ctx,
    order.id,
    {
      type: "IssueTickets",
      id: order.id,
      paymentId: payment.id,
      paidAmount: amountToMinor(payment.amount),
      paidCurrency: payment.amount.currency,
      tickets: issueTickets(order),
    },
    "issue",
  );
  await rt.payments.capturePayment(payment.id, { idempotenceKey: `capture-${order.id}` });
}
