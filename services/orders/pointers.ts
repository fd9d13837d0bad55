import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { Decider } from "../../lib/eventlog/decider";
import type { CommandContext } from "../../mixins/event-sourced.mixin";
import { loadOrder, type OrdersService } from "./order-commands";
import type { ProviderPayment } from "./orders.decider";
import type { OrderDoc } from "./orders.projection";
import type { Order } from "./orders.types";

/**
 * Pointers to a provider object worth looking at, for the sales.payments subscription:
 * recorded by the webhook, by an order closing and by the reconciliation sweep, each after
 * checking the object belongs to one of our orders. The object itself is always fetched again
 * before anything is done about it.
 */
export interface PaymentPointer {
  paymentId: string;
  /** What made us look: a notification's event, `order.closed` or `reconcile`. */
  event: string;
  /** The order it was verified against; absent in pointers recorded before it was added. */
  orderId?: string;
  /** The payment as the provider answered when the pointer was recorded (see settlePayment). */
  seen?: ProviderPayment & { at: number };
}

export interface RefundPointer {
  refundId: string;
  /** The refunded payment: refunds and payments of one order are handled in one partition. */
  paymentId: string;
  event: string;
  orderId: string;
}

type PointerEvent = { type: "PaymentNotified"; data: PaymentPointer } | { type: "RefundNotified"; data: RefundPointer };
type PointerCommand = PointerEvent;

const pointers: Decider<PointerCommand, PointerEvent, null> = {
  initialState: () => null,
  decide: (command) => [command],
  evolve: () => null,
};

/**
 * Records a pointer once per `key`. Keys follow the provider's state (`yookassa:<id>:<status>`),
 * so a repeat of what we already know is dropped, while an object that moved on (an early
 * notification seen while still pending, then the genuine one) is looked at again.
 */
export async function recordPointer(
  svc: OrdersService,
  key: string,
  pointer: PointerEvent,
  requestID: string | null,
): Promise<void> {
  const ctx: CommandContext = { meta: { user: SYSTEM, commandId: key }, requestID };
  const stream = pointer.type === "PaymentNotified" ? `payment-${pointer.data.paymentId}` : `refund-${pointer.data.refundId}`;
  await svc.execute(ctx, pointers, stream, pointer, "notified");
}

/** The dedupe key of a provider object in a given state. */
export function stateKey(id: string, status: string): string {
  return `yookassa:${id}:${status}`;
}

/**
 * The order a payment belongs to, or null. A notification's metadata.orderId is only a hint:
 * the order must have that very payment attached; without a usable hint the read model is asked.
 */
export async function orderOfPayment(rt: Runtime, svc: OrdersService, paymentId: string, hint?: unknown): Promise<Order | null> {
  let id: string | undefined;
  if (typeof hint === "string" && hint.length <= 64) id = hint;
  else {
    const [doc] = await svc.liveDocs<OrderDoc>().find({ "payment.id": paymentId }, { limit: 1 });
    id = doc?.id;
  }
  const order = id ? await loadOrder(rt, id) : null;
  return order?.payment?.id === paymentId ? order : null;
}
