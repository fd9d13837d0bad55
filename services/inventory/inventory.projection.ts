import type { Projection, ProjectionView, ReadDoc } from "../../lib/eventlog/projection";
import type { RecordedEvent } from "../../lib/eventlog/types";
import type { OrderEvent } from "../orders/orders.types";
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
  /** Tickets issued (paid orders) and the sum of their prices, in minor units. */
  ticketsIssued: number;
  gross: number;
  /** Tickets refunded and the sum of their prices, in minor units. */
  ticketsRefunded: number;
  refunded: number;
}

/** The money counters of a category; documents written before they existed lack them. */
type SalesCounters = Pick<CategoryStockDoc, "ticketsIssued" | "gross" | "ticketsRefunded" | "refunded">;

export function salesCounters(c: Partial<SalesCounters> | undefined): SalesCounters {
  return {
    ticketsIssued: c?.ticketsIssued ?? 0,
    gross: c?.gross ?? 0,
    ticketsRefunded: c?.ticketsRefunded ?? 0,
    refunded: c?.refunded ?? 0,
  };
}

/** Availability of one event, as the event page shows it, and its sales for the organizer. */
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

/** Counts issued (sign 1) or refunded (sign -1) tickets, at their prices, in their categories. */
function book(doc: EventStockDoc, tickets: Array<{ categoryId: string; price: number }>, sign: 1 | -1): EventStockDoc {
  const categories = { ...doc.categories };
  for (const ticket of tickets) {
    const c = categories[ticket.categoryId];
    if (!c) continue;
    const counters = salesCounters(c);
    categories[ticket.categoryId] =
      sign > 0
        ? { ...c, ...counters, ticketsIssued: counters.ticketsIssued + 1, gross: counters.gross + ticket.price }
        : { ...c, ...counters, ticketsRefunded: counters.ticketsRefunded + 1, refunded: counters.refunded + ticket.price };
  }
  return { ...doc, categories };
}

/**
 * Revenue from the orders' streams (same log): issued tickets at the price they were sold
 * for, minus refunded ones. A refund recorded before refunds named their tickets' categories
 * and prices cannot be attributed to a category and is left out.
 */
async function applyOrderEvent(recorded: RecordedEvent, view: ProjectionView<StockDoc>): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as OrderEvent;
  if (event.type !== "TicketsIssued" && event.type !== "TicketsRefunded") return;
  const tickets: Array<{ categoryId: string; price: number }> | undefined = event.data.tickets;
  if (!tickets?.length) return;
  const stock = (await view.get(eventStockId(event.data.eventId))) as EventStockDoc | null;
  if (!stock) return;
  view.put({ ...book(stock, tickets, event.type === "TicketsIssued" ? 1 : -1), updatedAt: recorded.at });
}

/**
 * Stock per event (capacity, held, sold, available per category) and the active holds, from
 * the sales log. A rebuild from zero gives the same numbers as the inventory aggregates.
 * Each category also counts its revenue from the orders' TicketsIssued and TicketsRefunded.
 */
export const stockProjection: Projection<StockDoc> = {
  name: "sales.stock",
  log: SALES_LOG,
  collection: "stock",
  indexes: [{ field: "kind" }, { field: "expiresAt" }],
  apply: async (recorded, view) => {
    if (recorded.stream.startsWith("order-")) return applyOrderEvent(recorded, view);
    if (!recorded.stream.startsWith("inventory-")) return;
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
            ...salesCounters(before),
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
      case "OrderReleased": {
        const hold = await view.get(holdDocId(event.data.holdId));
        if (hold) view.remove(hold._id);
        if (stock) {
          const released = shift(shift(stock, event.data.held, { held: -1 }), event.data.sold, { sold: -1 });
          view.put({ ...released, updatedAt: at });
        }
        return;
      }
    }
  },
};
