import { SYSTEM } from "../../lib/app/context";
import type { CommandContext } from "../../mixins/event-sourced.mixin";
import { runOrderCommand, type OrdersService } from "./order-commands";
import type { OrderDoc } from "./orders.projection";
import { paymentOfClosedOrder } from "./payments";

/**
 * Orders past their deadline: expire them and give the tickets back. Their payment is then
 * looked at (payments.ts): still payable → cancelled; already authorised (its notification
 * lost or late) → the tickets are sold when they are free, the authorisation cancelled when not.
 */
export async function expireDue(svc: OrdersService): Promise<void> {
  const due = await svc
    .liveDocs<OrderDoc>()
    .find({ status: "awaiting_payment", expiresAt: { $lte: Date.now() } }, { limit: 200 });
  for (const order of due) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `expire-${order.id}` }, requestID: null };
    const { state } = await runOrderCommand(svc, ctx, order.id, { type: "ExpireOrder", id: order.id }, "expire");
    await svc.broker.call(
      "inventory.release",
      { eventId: order.eventId, holdId: order.id, reason: "expired" },
      { meta: { user: SYSTEM } },
    );
    if (state?.status === "expired") await paymentOfClosedOrder(svc, state);
  }
}
