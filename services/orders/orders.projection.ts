import type { Projection, ReadDoc } from "../../lib/eventlog/projection";
import { SALES_LOG } from "../inventory/inventory.types";
import { orderDecider } from "./orders.decider";
import type { Order, OrderEvent } from "./orders.types";

export type OrderDoc = ReadDoc & Order & { updatedAt: number };

/** One document per order: the order exactly as the decider sees it, for queries and sweeps. */
export const ordersProjection: Projection<OrderDoc> = {
  name: "sales.orders",
  log: SALES_LOG,
  collection: "orders",
  indexes: [{ field: "userId" }, { field: "status" }, { field: "expiresAt" }, { field: "eventId" }, { field: "payment.id" }],
  apply: async (recorded, view) => {
    if (!recorded.stream.startsWith("order-")) return;
    const id = recorded.stream.slice("order-".length);
    const doc = await view.get(id);
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    if (!doc && event.type !== "OrderPlaced" && event.type !== "OrderImported") return;
    const next = orderDecider.evolve(doc, event)!;
    view.put({ ...next, _id: id, updatedAt: recorded.at });
  },
};
