/**
 * The buyer's order page, where the payment provider sends the browser back: the order's status
 * and, once issued, its tickets with their QR codes. Plain HTML drawn on the server (QR codes as
 * inline SVG), no scripts and no remote loads, so it works under a CSP that allows nothing else;
 * while the order waits for its payment the page reloads itself (a meta refresh, not a script).
 */
import { createHash } from "node:crypto";
import type * as QRCode from "qrcode";
import { escapeHtml, htmlDocument } from "./html";

/** What the page shows of an order: nothing the buyer did not enter or buy. */
export interface OrderPageView {
  number: string;
  status: string;
  /** Minor units (kopecks), like every amount of the API. */
  amount: number;
  currency: string;
  lines: Array<{ categoryName: string; quantity: number; unitPrice: number }>;
  tickets: Array<{
    series: string;
    number: string;
    categoryName: string;
    barcode: string;
    status: string;
    row?: string;
    seat?: string;
    sector?: string;
  }>;
  event?: { name: string; startsAtIso: string | null; venue?: string };
}

/** How often a page waiting for the payment reloads. */
export const ORDER_PAGE_REFRESH_SECONDS = 3;

/** Statuses the page explains in words; anything else is shown as it is. */
const STATUS_TEXT: Record<string, string> = {
  awaiting_payment: "Waiting for the payment…",
  paid: "Paid: your tickets are below",
  expired: "Expired: the order was not paid in time",
  cancelled: "Cancelled",
  partially_refunded: "Partially refunded",
  refunded: "Refunded",
};

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; background: #f2f3f5; color: #1f2328; margin: 0; }
main { max-width: 34rem; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px #0002; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
.status { font-size: 1.1rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #eee; }
.ticket { border: 1px dashed #999; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.ticket svg { width: 12rem; height: 12rem; display: block; }
.muted { color: #666; font-size: .9rem; }
`;

/**
 * Nothing but this page's own stylesheet: no scripts, frames, images or forms, and no base
 * URL to rewrite its links. Inline SVG is part of the document, not a load.
 */
export const ORDER_PAGE_CSP = [
  "default-src 'none'",
  `style-src '${"sha256-" + createHash("sha256").update(STYLE).digest("base64")}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every answer of the page, found or not. */
export const ORDER_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": ORDER_PAGE_CSP,
  // The URL carries the capability: keep it out of caches and of other sites' logs.
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

/** Loaded at the first page with tickets, not at start: qrcode takes a few hundred ms to load. */
const qrcode = () => require("qrcode") as typeof QRCode;

/** The same QR code the page draws for a barcode (exported so a test can redraw it). */
export function ticketQrSvg(barcode: string): Promise<string> {
  return qrcode().toString(barcode, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}

export async function orderPage(order: OrderPageView): Promise<string> {
  const waiting = order.status === "awaiting_payment";
  const lines = order.lines
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.categoryName)}</td><td>${line.quantity}</td><td>${escapeHtml(money(line.unitPrice, order.currency))}</td></tr>`,
    )
    .join("");
  const tickets = await Promise.all(order.tickets.map(async (ticket) => ticketBlock(ticket)));
  const event = order.event
    ? `<p>${escapeHtml(order.event.name)}${order.event.startsAtIso ? `, ${escapeHtml(order.event.startsAtIso)}` : ""}${
        order.event.venue ? ` · ${escapeHtml(order.event.venue)}` : ""
      }</p>`
    : "";
  return layout(
    `Order ${order.number}`,
    waiting,
    `<h1>Order ${escapeHtml(order.number)}</h1>
${event}
<p class="status" id="status" data-status="${escapeHtml(order.status)}">${escapeHtml(STATUS_TEXT[order.status] ?? order.status)}</p>
${waiting ? `<p class="muted">This page refreshes every ${ORDER_PAGE_REFRESH_SECONDS} seconds until the payment is settled.</p>` : ""}
<table><thead><tr><th>Category</th><th>Qty</th><th>Price</th></tr></thead><tbody>${lines}</tbody></table>
<p>Total: <strong>${escapeHtml(money(order.amount, order.currency))}</strong></p>
${tickets.join("\n")}`,
  );
}

export function orderNotFoundPage(): string {
  return layout("Not found", false, "<h1>No such order</h1><p>Check the link you were given after paying.</p>");
}

async function ticketBlock(ticket: OrderPageView["tickets"][number]): Promise<string> {
  const place = [
    ticket.sector ? `sector ${ticket.sector}` : "",
    ticket.row ? `row ${ticket.row}` : "",
    ticket.seat ? `seat ${ticket.seat}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  // Only a ticket that admits someone gets a code to show at the door.
  const code = ticket.status === "active" ? await ticketQrSvg(ticket.barcode) : "";
  return `<section class="ticket" data-barcode="${escapeHtml(ticket.barcode)}">
<h2>${escapeHtml(ticket.categoryName)}${place ? ` · ${escapeHtml(place)}` : ""}</h2>
<p class="muted">Ticket ${escapeHtml(ticket.series)} ${escapeHtml(ticket.number)} · ${escapeHtml(ticket.status)}</p>
${code}
<p class="muted">${escapeHtml(ticket.barcode)}</p>
</section>`;
}

/** 250000 kopecks → "2500.00 RUB". */
function money(minor: number, currency: string): string {
  return `${(minor / 100).toFixed(2)} ${currency}`;
}

function layout(title: string, refresh: boolean, body: string): string {
  const head = refresh ? `<meta http-equiv="refresh" content="${ORDER_PAGE_REFRESH_SECONDS}">` : undefined;
  return htmlDocument({ title, style: STYLE, body, head });
}
