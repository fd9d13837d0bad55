/**
 * The receipt's tickets as a PDF: one A4 page per valid ticket, with its QR code (vector) large
 * enough for a door scanner from a phone screen or paper. DejaVu is embedded (subset) because the
 * PDF standard fonts have no Cyrillic.
 */
import type { Font } from "fontkit";
import { readFileSync } from "fs";
import { dirname, join } from "path";
import type PDFDocument from "pdfkit";
import type * as QRCode from "qrcode";
import type { NotificationData, TicketView } from "./notification-data";
import { formatDateTime, formatMoney, ticketPlace, venueAddress } from "./templates/format";
import { phrasesFor } from "./templates/phrases";

/*
 * fontkit, pdfkit and qrcode are loaded at the first PDF, not at start: together they take a few
 * hundred ms to load, and many processes that import this module never draw a ticket.
 */
const fontkit = () => require("fontkit") as typeof import("fontkit");
const pdfkit = () => require("pdfkit") as typeof PDFDocument;
const qrcode = () => require("qrcode") as typeof QRCode;

let fonts: { regular: Font; bold: Font } | undefined;

/**
 * Read and parsed once per process: parsing the 700 kB faces took two thirds of each PDF's
 * time. pdfkit takes the parsed font as is (each document still embeds its own subset).
 */
function loadFonts(): { regular: Font; bold: Font } {
  if (!fonts) {
    const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
    const face = (file: string): Font => fontkit().create(readFileSync(join(dir, file)));
    fonts = { regular: face("DejaVuSans.ttf"), bold: face("DejaVuSans-Bold.ttf") };
  }
  return fonts;
}

/**
 * pdfkit stamps the current time into the document (and derives its file id from it); a fixed
 * date makes a resent receipt byte for byte the same document. The data carries no order time.
 */
const CREATION_DATE = new Date(Date.UTC(2000, 0, 1));

/** The QR code's side on the page, quiet zone included (about 81 mm). */
const QR_SIZE = 230;
/** White modules around the code: what scanners need to find it. */
const QR_QUIET = 4;

/**
 * The QR code as vector squares, one run of dark modules per rectangle: sharp at any zoom and
 * on any printer, and no image to encode as PNG and decode again (that round trip was a sixth
 * of a receipt's CPU in bench:notifications).
 */
function drawQr(doc: PDFKit.PDFDocument, barcode: string, x: number, y: number): void {
  const { modules } = qrcode().create(barcode, { errorCorrectionLevel: "M" });
  const cell = QR_SIZE / (modules.size + 2 * QR_QUIET);
  const origin = (i: number) => (QR_QUIET + i) * cell;
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size;) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < modules.size && modules.get(row, col)) col++;
      doc.rect(x + origin(start), y + origin(row), (col - start) * cell, cell);
    }
  }
  doc.fillColor("#000000").fill();
}

export function activeTickets(data: NotificationData): TicketView[] {
  return data.order.tickets.filter((ticket) => ticket.status === "active");
}

export async function ticketsPdf(data: NotificationData): Promise<Buffer> {
  const { order, event } = data;
  const tickets = activeTickets(data);
  if (tickets.length === 0) throw new Error(`order ${order.id} has no valid ticket to print`);
  const p = phrasesFor(data.locale);
  const font = loadFonts();

  const PDFKitDocument = pdfkit();
  const doc = new PDFKitDocument({
    // No default font: pdfkit would build Helvetica's metrics for every document, never to use them.
    font: null as unknown as string,
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
  // @types/pdfkit predates parsed-font sources; pdfkit checks for `layout` and uses the font as is.
  doc.registerFont("Regular", font.regular as unknown as Buffer);
  doc.registerFont("Bold", font.bold as unknown as Buffer);

  const when = event.startsAt === null ? p.openDate : formatDateTime(event.startsAt, event.timezone, data.locale);
  const buyer = [order.customer.firstName, order.customer.lastName].filter(Boolean).join(" ");
  tickets.forEach((ticket, i) => {
    doc.addPage();
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;
    /**
     * Every box has a line budget and ends in an ellipsis: text running past the page would
     * make pdfkit add a page, and a ticket must stay exactly one page.
     */
    const write = (
      text: string,
      style: { bold?: boolean; size: number; color?: string; lines: number },
      x: number,
      w: number,
      y?: number,
    ): void => {
      doc
        .font(style.bold ? "Bold" : "Regular")
        .fontSize(style.size)
        .fillColor(style.color ?? "#111827");
      doc.text(text, x, y ?? doc.y, { width: w, height: doc.currentLineHeight(true) * style.lines, ellipsis: true });
    };
    write(
      `${p.ticketTitle(i + 1, tickets.length)} · ${p.labels.order} ${order.number}`,
      { size: 10, color: "#6b7280", lines: 1 },
      left,
      width,
      50,
    );
    doc.moveDown(0.6);
    write(event.name, { bold: true, size: 22, lines: 3 }, left, width);
    doc.moveDown(0.3);
    write(when, { size: 13, lines: 2 }, left, width);
    doc.moveDown(0.2);
    write(`${event.venue.name}, ${venueAddress(event.venue)}`, { size: 12, lines: 3 }, left, width);

    const qrTop = doc.y + 20;
    drawQr(doc, ticket.barcode, left + (width - QR_SIZE) / 2, qrTop);
    doc
      .font("Bold")
      .fontSize(13)
      .text(ticket.barcode, left, qrTop + QR_SIZE + 6, { width, align: "center", lineBreak: false });

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
      write(label, { size: 11, color: "#6b7280", lines: 1 }, left, 130, y);
      write(value, { size: 12, lines: 2 }, left + 140, width - 140, y);
      doc.moveDown(0.4);
    }
    doc.moveDown(1);
    write(p.pdfHint, { size: 10, color: "#6b7280", lines: 3 }, left, width);
  });
  doc.end();
  return done;
}
