/**
 * A render thread's task (pdf-threads.ts): the tickets' PDF, made off the event loop that
 * serves requests and runs the log. Piscina calls the default export.
 */
import type { NotificationData } from "./notification-data";
import { ticketsPdf } from "./ticket-pdf";

export default function makeTicketsPdf(data: NotificationData): Promise<Buffer> {
  return ticketsPdf(data);
}
