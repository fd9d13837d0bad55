import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { CommandContext } from "../../mixins/event-sourced.mixin";
import { runOrderCommand, type OrdersService } from "./order-commands";
import type { OrderDoc } from "./orders.projection";
import { authorisedAtDeadline, paymentOfClosedOrder } from "./payments";
import { releaseIfClosed } from "./stock-release";

/**
 * Orders past their deadline. One whose payment the provider has authorised is sold instead
 * (authorisedAtDeadline); the others expire, which is final: their stock goes back
 * (sales.stock-release, with this call as the fast path) and their payment, still payable or
 * authorised too late, is cancelled (payments.ts).
 */
export async function expireDue(rt: Runtime, svc: OrdersService): Promise<void> {
  const due = await svc
    .liveDocs<OrderDoc>()
    .find({ status: "awaiting_payment", expiresAt: { $lte: Date.now() } }, { limit: 200 });
  for (const order of due) {
    if (await authorisedAtDeadline(rt, svc, order)) continue;
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `expire-${order.id}` }, requestID: null };
    const { state } = await runOrderCommand(svc, ctx, order.id, { type: "ExpireOrder", id: order.id }, "expire");
    // A no-op when it was paid meanwhile (the read model lags): then nothing is given back.
    await releaseIfClosed(svc.broker, state, "expired");
    if (state?.status === "expired") await paymentOfClosedOrder(svc, state);
  }
}
