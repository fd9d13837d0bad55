import type { Projection, ReadDoc } from "../../lib/eventlog/projection";
import { SALES_LOG } from "../inventory/inventory.types";
import { orderDecider } from "./orders.decider";
import type { Order, OrderEvent } from "./orders.types";

/**
 * What the provider sweeps look for (payments.ts, refunds.ts), as fields present only while
 * true, under sparse indexes: found in arrays and across states, it took a scan of every order
 * each round (5.4 s of a stalled process at 1M orders on the embedded store).
 */
export interface ProviderChecks {
  /** A payment the provider may still hold: the order awaits it, or ended without closing it. */
  openPayment?: true;
  /** A refund the provider has not settled yet. */
  openRefunds?: true;
}

export type OrderDoc = ReadDoc & Order & { updatedAt: number } & ProviderChecks;

export function providerChecks(order: Order): ProviderChecks {
  const payment = order.payment;
  const ended = order.status === "expired" || order.status === "cancelled";
  const openPayment = !!payment && (order.status === "awaiting_payment" || (ended && !payment.closed));
  const openRefunds = (order.refunds ?? []).some((r) => r.status === "pending");
  return { ...(openPayment ? { openPayment: true } : {}), ...(openRefunds ? { openRefunds: true } : {}) };
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
    { field: "openPayment", sparse: true },
    { field: "openRefunds", sparse: true },
  ],
  apply: async (recorded, view) => {
    if (!recorded.stream.startsWith("order-")) return;
    const id = recorded.stream.slice("order-".length);
    const doc = await view.get(id);
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    if (!doc && event.type !== "OrderPlaced" && event.type !== "OrderImported") return;
    // The previous document's flags are not carried over: they are worked out again.
    const { openPayment: _payment, openRefunds: _refunds, ...next } = orderDecider.evolve(doc, event)! as OrderDoc;
    view.put({ ...next, ...providerChecks(next), _id: id, updatedAt: recorded.at });
  },
};
