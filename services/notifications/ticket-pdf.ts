/**
 * The receipt's tickets as a PDF: one A4 page per valid ticket, with its QR code large enough
 * for a door scanner from a phone screen or paper. DejaVu is embedded (subset) because the
 * PDF standard fonts have no Cyrillic.
 */
import { readFileSync } from "fs";
import { dirname, join } from "path";
import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import type { NotificationData, TicketView } from "./notification-data";
import { formatDateTime, formatMoney, ticketPlace, venueAddress } from "./templates/format";
import { phrasesFor } from "./templates/phrases";

let fonts: { regular: Buffer; bold: Buffer } | undefined;

/** Read once per process: every PDF embeds a subset of the same two faces. */
function loadFonts(): { regular: Buffer; bold: Buffer } {
  if (!fonts) {
    const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
    fonts = { regular: readFileSync(join(dir, "DejaVuSans.ttf")), bold: readFileSync(join(dir, "DejaVuSans-Bold.ttf")) };
  }
  return fonts;
}

/**
 * pdfkit stamps the current time into the document (and derives its file id from it); a fixed
 * date makes a resent receipt byte for byte the same document. The data carries no order time.
 */
const CREATION_DATE = new Date(Date.UTC(2000, 0, 1));

/**
 * Grey without alpha: pdfkit then embeds the PNG's own compressed rows (no alpha mask to split
 * off), which keeps the PDF small and fast. The 4-module quiet zone is what scanners need.
 */
const QR_PNG = { colorType: 0, deflateLevel: 6 };
const QR_SIZE = 230;

function qrPng(barcode: string): Promise<Buffer> {
  return QRCode.toBuffer(barcode, { type: "png", errorCorrectionLevel: "M", margin: 4, scale: 8, rendererOpts: QR_PNG });
}

export function activeTickets(data: NotificationData): TicketView[] {
  return data.order.tickets.filter((ticket) => ticket.status === "active");
}

export async function ticketsPdf(data: NotificationData): Promise<Buffer> {
  const { order, event } = data;
  const tickets = activeTickets(data);
  if (tickets.length === 0) throw new Error(`order ${order.id} has no valid ticket to print`);
  const p = phrasesFor(data.locale);
  const codes = await Promise.all(tickets.map((ticket) => qrPng(ticket.barcode)));
  const font = loadFonts();

  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    autoFirstPage: false,
    info: { Title: `${event.name} — ${order.number}`, Creator: "ticketing", CreationDate: CREATION_DATE },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  doc.registerFont("Regular", font.regular);
  doc.registerFont("Bold", font.bold);

  const when = event.startsAt === null ? p.openDate : formatDateTime(event.startsAt, event.timezone, data.locale);
  const buyer = [order.customer.firstName, order.customer.lastName].filter(Boolean).join(" ");
  tickets.forEach((ticket, i) => {
    doc.addPage();
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;
    doc.font("Regular").fontSize(10).fillColor("#6b7280");
    doc.text(`${p.ticketTitle(i + 1, tickets.length)} · ${p.labels.order} ${order.number}`, left, 50, { width });
    doc.moveDown(0.6).font("Bold").fontSize(22).fillColor("#111827").text(event.name, { width });
    doc.moveDown(0.3).font("Regular").fontSize(13).text(when, { width });
    doc
      .moveDown(0.2)
      .fontSize(12)
      .text(`${event.venue.name}, ${venueAddress(event.venue)}`, { width });

    const qrTop = doc.y + 20;
    doc.image(codes[i], left + (width - QR_SIZE) / 2, qrTop, { width: QR_SIZE, height: QR_SIZE });
    doc
      .font("Bold")
      .fontSize(13)
      .text(ticket.barcode, left, qrTop + QR_SIZE + 6, { width, align: "center" });

    doc.moveDown(1.2);
    const facts: Array<[string, string]> = [
      [p.labels.category, ticket.categoryName],
      [p.labels.place, ticketPlace(ticket, p.place)],
      [p.labels.price, formatMoney(ticket.price, ticket.currency, data.locale)],
      [p.labels.order, order.number],
      ...(buyer ? [[p.labels.buyer, buyer] as [string, string]] : []),
    ];
    for (const [label, value] of facts) {
      const y = doc.y;
      doc.font("Regular").fontSize(11).fillColor("#6b7280").text(label, left, y, { width: 130 });
      doc
        .font("Regular")
        .fontSize(12)
        .fillColor("#111827")
        .text(value, left + 140, y, { width: width - 140 });
      doc.moveDown(0.4);
    }
    doc.moveDown(1).font("Regular").fontSize(10).fillColor("#6b7280").text(p.pdfHint, left, doc.y, { width });
  });
  doc.end();
  return done;
}
