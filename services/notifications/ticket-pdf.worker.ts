/**
 * A render thread's task (pdf-threads.ts): the tickets' PDF, made off the event loop that
 * serves requests and runs the log. Piscina calls the default export.
 */
import { setPriority } from "node:os";
import type { NotificationData } from "./notification-data";
import { ticketsPdf } from "./ticket-pdf";

// Receipts can wait a moment; an on-sale cannot. On Linux a thread has its own nice value, so
// this thread (only) yields the cores to the event loop that sells: in the quick start on two
// cores, PDFs rendered at the same priority took half the machine from the payments.
try {
  setPriority(19);
} catch {
  // Not permitted here (or not per thread): render at the usual priority.
}

export default function makeTicketsPdf(data: NotificationData): Promise<Buffer> {
  return ticketsPdf(data);
}
