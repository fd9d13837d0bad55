/** English phrases of every kind. */
import { plural } from "./format";
import type { ChangedContext, Phrases } from "./message";

const tickets = (count: number): string => plural(count, { one: "ticket", other: "tickets" }, "en");

const REFUND_TIME = "The money goes back to the card you paid with; it usually takes 1–10 business days, depending on your bank.";

const what = (c: ChangedContext): string =>
  c.dateChanged && c.venueChanged ? "date and venue" : c.venueChanged ? "venue" : "date and time";
const now = (c: ChangedContext): string =>
  [c.dateChanged ? c.whenShort || "open date" : "", c.venueChanged ? c.venue : ""].filter(Boolean).join(", ");

export const en: Phrases = {
  locale: "en",
  labels: {
    order: "Order",
    amount: "Amount",
    event: "Event",
    date: "Date and time",
    venue: "Venue",
    address: "Address",
    category: "Category",
    place: "Seat",
    price: "Price",
    barcode: "Barcode",
    tickets: "Tickets",
    refunded: "Refunded",
    dateBefore: "Was",
    dateAfter: "Now",
    venueBefore: "Former venue",
    venueAfter: "New venue",
    reason: "Reason",
    buyer: "Buyer",
  },
  place: { row: "row", seat: "seat", sector: "sector", general: "general admission" },
  openDate: "open date (the ticket is valid on any day of the event)",
  ticketTitle: (index, total) => `Ticket ${index} of ${total}`,
  pdfHint: "Show the QR code at the entrance, on screen or printed. Each code lets one person in, once.",
  tickets,
  greeting: (firstName) => (firstName ? `Hello ${firstName},` : "Hello,"),
  viewOrder: "View your order",
  footer: "This is an automatic message about your order; there is no need to reply.",

  order_paid: {
    subject: (c) => `Your tickets: ${c.name}, order ${c.number}`,
    heading: () => "Your order is paid",
    body: (c) => [
      `Thank you! Order ${c.number} is paid: ${tickets(c.count)} for ${c.amount}.`,
      "Your tickets with their QR codes are in the attached PDF, one page per ticket. Show the code at the entrance, on screen or printed.",
    ],
    sms: (c) => `Order ${c.number} paid: ${tickets(c.count)}, ${c.amount}. Tickets sent by e-mail.`,
    push: (c) => ({ title: "Order paid", body: `${c.name}: ${tickets(c.count)}, ${c.amount}` }),
  },

  order_not_paid: {
    subject: (c) => (c.reason === "expired" ? `Order ${c.number}: time to pay ran out` : `Order ${c.number} was not paid`),
    heading: (c) => (c.reason === "expired" ? "Time to pay ran out" : "The payment did not go through"),
    body: (c) => [
      c.reason === "expired"
        ? `Order ${c.number} for ${c.name} was not paid in time and has been cancelled.`
        : `The payment for order ${c.number} for ${c.name} did not go through; the order has been cancelled.`,
      `Nothing was charged, and the tickets were released (${tickets(c.count)}); you are welcome to place a new order.`,
    ],
    sms: (c) =>
      c.reason === "expired"
        ? `Time to pay for order ${c.number} ran out. Nothing was charged; the tickets were released.`
        : `Order ${c.number} was not paid. Nothing was charged; the tickets were released.`,
    push: (c) => ({
      title: c.reason === "expired" ? "Time to pay ran out" : "Payment failed",
      body: `Order ${c.number}: nothing charged, tickets released`,
    }),
  },

  refund_done: {
    subject: (c) => `Refund for order ${c.number}: ${c.refunded}`,
    heading: () => "Your refund is on its way",
    body: (c) => [
      `We refunded ${c.refunded} ${
        { all: "for all tickets of order", some: `for ${tickets(c.count)} of order`, amount: "on order" }[c.scope]
      } ${c.number} for ${c.name}.`,
      REFUND_TIME,
      "Refunded tickets are no longer valid.",
    ],
    sms: (c) => `Refund of ${c.refunded} for order ${c.number} done.`,
    push: (c) => ({
      title: "Refund done",
      body: `${c.refunded}${c.count > 0 ? ` for ${tickets(c.count)}` : ""}, order ${c.number}`,
    }),
  },

  event_cancelled: {
    subject: (c) => `Cancelled: ${c.name}`,
    heading: () => "The event is cancelled",
    body: (c) => [
      `We are sorry: ${c.name} (${c.when}) has been cancelled.`,
      c.money === "refunded"
        ? `We are refunding order ${c.number} in full: ${c.amount}. ${REFUND_TIME}`
        : `Order ${c.number} was not paid, so nothing was charged.`,
    ],
    sms: (c) =>
      `Cancelled: ${c.name}${c.whenShort ? ` ${c.whenShort}` : ""}. ${
        c.money === "refunded" ? "Full refund to your card." : "Nothing was charged."
      }`,
    push: (c) => ({
      title: "Event cancelled",
      body: `${c.name}: ${c.money === "refunded" ? `${c.amount} refunded to your card` : "nothing charged"}`,
    }),
  },

  event_changed: {
    subject: (c) => `Changed: ${c.name}`,
    heading: (c) => `The ${what(c)} changed`,
    body: (c) => [
      `The organiser changed the ${what(c)} of ${c.name}.`,
      `Your ${tickets(c.count)} (order ${c.number}) remain valid; there is nothing you need to do.`,
    ],
    sms: (c) => `Changed: ${c.name} is now ${now(c)}`,
    push: (c) => ({ title: "Event changed", body: `${c.name}: now ${now(c)}` }),
  },

  event_reminder: {
    subject: (c) => `Coming up: ${c.name}${c.whenShort ? `, ${c.whenShort}` : ""}`,
    heading: () => "See you soon",
    body: (c) => [
      `${c.name} is coming up: ${c.when}.`,
      `You have ${tickets(c.count)} (order ${c.number}). Bring the tickets from your order e-mail.`,
    ],
    sms: (c) => `Reminder: ${c.name}${c.whenShort ? `, ${c.whenShort}` : ""}, ${c.venue}. Bring your tickets.`,
    push: (c) => ({
      title: `Coming up: ${c.name}`,
      body: `${c.whenShort ? `${c.whenShort}, ` : ""}${c.venue}, ${tickets(c.count)}`,
    }),
  },
};
