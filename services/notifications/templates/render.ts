/**
 * Every notification in every form its channels need: the kind's phrases in the message's
 * locale, laid out as HTML and text, plus the SMS, the push and (for the receipt) the PDF.
 */
import type { NotificationData, Renderer } from "../notification-data";
import { activeTickets, ticketsPdf } from "../ticket-pdf";
import { compose } from "./compose";
import { renderHtml, renderText } from "./layout";
import { phrasesFor } from "./phrases";

/** The order number as a file name mail clients accept everywhere. */
function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/** Makes the tickets' PDF: in this thread, or on the render threads (pdf-threads.ts). */
export type PdfMaker = (data: NotificationData) => Promise<Buffer>;

export function renderer(pdf: PdfMaker): Renderer {
  return async (data, channel) => {
    const message = compose(data, phrasesFor(data.locale));
    const attachments =
      channel === "email" && data.kind === "order_paid" && activeTickets(data).length > 0
        ? [{ filename: `tickets-${fileSafe(data.order.number)}.pdf`, content: await pdf(data), contentType: "application/pdf" }]
        : [];
    return {
      subject: message.subject,
      text: renderText(message),
      html: renderHtml(message),
      sms: message.sms,
      push: message.push,
      attachments,
    };
  };
}

/** Everything in this thread. */
export const renderNotification: Renderer = renderer(ticketsPdf);
