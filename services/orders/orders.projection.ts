import type { Projection, ReadDoc } from "../../lib/eventlog/projection";
import { SALES_LOG } from "../inventory/inventory.types";
import { orderDecider } from "./orders.decider";
import type { Order, OrderEvent } from "./orders.types";

/**
 * What the provider sweeps look for (payments.ts, refunds.ts), as plain indexed fields: found
 * in arrays and across states, it took a scan of every order (5 s of a stalled process at 1M
 * orders on the embedded store). Absent on documents projected before they existed.
 */
export interface ProviderChecks {
  /** A payment the provider may still hold: the order awaits it, or ended without closing it. */
  openPayment: boolean;
  /** A refund the provider has not settled yet. */
  openRefunds: boolean;
}

export type OrderDoc = ReadDoc & Order & { updatedAt: number } & Partial<ProviderChecks>;

export function providerChecks(order: Order): ProviderChecks {
  const payment = order.payment;
  const ended = order.status === "expired" || order.status === "cancelled";
  return {
    openPayment: !!payment && (order.status === "awaiting_payment" || (ended && !payment.closed)),
    openRefunds: (order.refunds ?? []).some((r) => r.status === "pending"),
  };
}

/** One document per order: the order exactly as the decider sees it, for queries and sweeps. */
export const ordersProjection: Projection<OrderDoc> = {
  name: "sales.orders",
  log: SALES_LOG,
  collection: "orders",
  // 2: openPayment and openRefunds.
  version: 2,
  indexes: [
    { field: "userId" },
    { field: "status" },
    { field: "expiresAt" },
    { field: "eventId" },
    { field: "payment.id" },
    { field: "openPayment" },
    { field: "openRefunds" },
  ],
  apply: async (recorded, view) => {
    if (!recorded.stream.startsWith("order-")) return;
    const id = recorded.stream.slice("order-".length);
    const doc = await view.get(id);
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    if (!doc && event.type !== "OrderPlaced" && event.type !== "OrderImported") return;
    const next = orderDecider.evolve(doc, event)!;
    view.put({ ...next, ...providerChecks(next), _id: id, updatedAt: recorded.at });
  },
};
