import { SYSTEM } from "../../lib/app/context";
import type { CommandContext } from "../../mixins/event-sourced.mixin";
import { runOrderCommand, type OrdersService } from "./order-commands";
import type { OrderDoc } from "./orders.projection";

/**
 * Orders past their deadline: expire them and give the tickets back. The payment is left
 * alone: if the buyer still pays, settlePayment sells the tickets when they are free and
 * cancels the authorisation when they are not.
 */
export async function expireDue(svc: OrdersService): Promise<void> {
  const due = await svc
    .liveDocs<OrderDoc>()
    .find({ status: "awaiting_payment", expiresAt: { $lte: Date.now() } }, { limit: 200 });
  for (const order of due) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `expire-${order.id}` }, requestID: null };
    await runOrderCommand(svc, ctx, order.id, { type: "ExpireOrder", id: order.id }, "expire");
    await svc.broker.call(
      "inventory.release",
      { eventId: order.eventId, holdId: order.id, reason: "expired" },
      { meta: { user: SYSTEM } },
    );
  }
}
