import type { Projection, ReadDoc } from "../../lib/eventlog/projection";
import { SALES_LOG } from "../inventory/inventory.types";
import type { OrderEvent, Ticket } from "../orders/orders.types";

/** One document per ticket: what its holder and the door need, found by barcode or owner. */
export interface TicketDoc extends ReadDoc, Omit<Ticket, "usedAt"> {
  orderId: string;
  eventId: string;
  organizerId: string;
  userId: string;
  holder: { email: string; phone: string; name?: string };
  usedAt: number | null;
  issuedAt: number;
  updatedAt: number;
}

export const ticketsProjection: Projection<TicketDoc> = {
  name: "sales.tickets",
  log: SALES_LOG,
  collection: "tickets",
  indexes: [{ field: "barcode", unique: true }, { field: "userId" }, { field: "orderId" }, { field: "eventId" }],
  apply: async (recorded, view) => {
    const event = { type: recorded.type, data: recorded.data } as OrderEvent;
    switch (event.type) {
      case "OrderImported":
      case "TicketsIssued": {
        const { id: orderId, eventId, organizerId, userId, customer } = event.data;
        const name = [customer.firstName, customer.lastName].filter(Boolean).join(" ") || undefined;
        for (const ticket of event.data.tickets) {
          await view.get(ticket.id);
          view.put({
            ...ticket,
            _id: ticket.id,
            orderId,
            eventId,
            organizerId,
            userId,
            holder: { email: customer.email, phone: customer.phone, ...(name ? { name } : {}) },
            usedAt: null,
            issuedAt: recorded.at,
            updatedAt: recorded.at,
          });
        }
        return;
      }
      case "TicketCheckedIn": {
        const doc = await view.get(event.data.ticketId);
        if (doc) view.put({ ...doc, status: "used", usedAt: event.data.at, updatedAt: recorded.at });
        return;
      }
      case "TicketsRefunded":
      case "ImportedTicketsRefunded":
        for (const ticketId of event.data.ticketIds) {
          const doc = await view.get(ticketId);
          if (doc) view.put({ ...doc, status: "refunded", updatedAt: recorded.at });
        }
        return;
      case "ImportedOrderCancelled":
        for (const ticketId of event.data.ticketIds) {
          const doc = await view.get(ticketId);
          if (doc) view.put({ ...doc, status: "cancelled", updatedAt: recorded.at });
        }
        return;
    }
  },
};
