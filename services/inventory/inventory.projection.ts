import type { Projection, ReadDoc } from "../../lib/eventlog/projection";
import { SALES_LOG, type HoldLine, type InventoryEvent } from "./inventory.types";

export interface CategoryStockDoc {
  name: string;
  price: number;
  currency: string;
  kind: "ga" | "seated";
  capacity: number;
  held: number;
  sold: number;
  available: number;
}

/** Availability of one event, as the event page shows it. */
export interface EventStockDoc extends ReadDoc {
  kind: "event";
  eventId: string;
  open: boolean;
  categories: Record<string, CategoryStockDoc>;
  updatedAt: number;
}

/** An active hold, so an expiry sweep can find the due ones without loading every event. */
export interface HoldDoc extends ReadDoc {
  kind: "hold";
  eventId: string;
  orderId: string;
  expiresAt: number;
  lines: HoldLine[];
}

export type StockDoc = EventStockDoc | HoldDoc;

export const eventStockId = (eventId: string) => `event:${eventId}`;
export const holdDocId = (holdId: string) => `hold:${holdId}`;

function shift(doc: EventStockDoc, lines: HoldLine[], change: { held?: number; sold?: number }): EventStockDoc {
  const categories = { ...doc.categories };
  for (const line of lines) {
    const c = categories[line.categoryId];
    if (!c) continue;
    const held = c.held + (change.held ?? 0) * line.quantity;
    const sold = c.sold + (change.sold ?? 0) * line.quantity;
    categories[line.categoryId] = { ...c, held, sold, available: c.capacity - held - sold };
  }
  return { ...doc, categories };
}

/**
 * Stock per event (capacity, held, sold, available per category) and the active holds, from
 * the sales log. A rebuild from zero gives the same numbers as the inventory aggregates.
 */
export const stockProjection: Projection<StockDoc> = {
  name: "sales.stock",
  log: SALES_LOG,
  collection: "stock",
  indexes: [{ field: "kind" }, { field: "expiresAt" }],
  apply: async (recorded, view) => {
    const event = recorded as unknown as InventoryEvent & { at: number };
    const eventId = recorded.stream.slice("inventory-".length);
    const stock = (await view.get(eventStockId(eventId))) as EventStockDoc | null;
    const at = recorded.at;
    switch (event.type) {
      case "InventorySynced": {
        const categories: Record<string, CategoryStockDoc> = {};
        for (const c of event.data.categories) {
          const before = stock?.categories[c.id];
          const capacity = c.kind === "seated" ? (c.seats?.length ?? 0) : c.capacity;
          const held = before?.held ?? 0;
          const sold = before?.sold ?? 0;
          categories[c.id] = {
            name: c.name,
            price: c.price,
            currency: c.currency,
            kind: c.kind,
            capacity,
            held,
            sold,
            available: capacity - held - sold,
          };
        }
        view.put({ _id: eventStockId(eventId), kind: "event", eventId, open: event.data.open, categories, updatedAt: at });
        return;
      }
      case "HoldPlaced": {
        await view.get(holdDocId(event.data.id));
        view.put({
          _id: holdDocId(event.data.id),
          kind: "hold",
          eventId,
          orderId: event.data.orderId,
          expiresAt: event.data.expiresAt,
          lines: event.data.lines,
        });
        if (stock) view.put({ ...shift(stock, event.data.lines, { held: 1 }), updatedAt: at });
        return;
      }
      case "HoldReleased": {
        const hold = (await view.get(holdDocId(event.data.holdId))) as HoldDoc | null;
        if (!hold) return;
        view.remove(hold._id);
        if (stock) view.put({ ...shift(stock, hold.lines, { held: -1 }), updatedAt: at });
        return;
      }
      case "HoldConfirmed": {
        const hold = (await view.get(holdDocId(event.data.holdId))) as HoldDoc | null;
        if (hold) view.remove(hold._id);
        if (stock) view.put({ ...shift(stock, event.data.lines, hold ? { held: -1, sold: 1 } : { sold: 1 }), updatedAt: at });
        return;
      }
      case "TicketsReturned":
        if (stock) view.put({ ...shift(stock, event.data.lines, { sold: -1 }), updatedAt: at });
        return;
    }
  },
};
