/**
 * The language-neutral shape of one message: what the language files fill in and the layout
 * turns into HTML and text. Every value is plain text; escaping is the layout's job alone.
 */
import type { Locale } from "../../../lib/domain/notifications";

export interface Fact {
  label: string;
  value: string;
}

export interface Message {
  locale: Locale;
  subject: string;
  heading: string;
  paragraphs: string[];
  facts: Fact[];
  /** One block per ticket (the receipt, a refund). */
  tickets: Array<{ title: string; facts: Fact[] }>;
  action?: { label: string; url: string };
  footer: string;
  sms: string;
  push: { title: string; body: string };
}

/** What every kind's phrases may use, already formatted for the message's locale. */
export interface Context {
  /** The event's name (cut to fit in an SMS). */
  name: string;
  /** Long date and time in the event's zone, or the locale's "open date" phrase. */
  when: string;
  /** Short form for SMS and push; empty for an open-date event. */
  whenShort: string;
  venue: string;
  address: string;
  number: string;
  /** The order's amount, formatted. */
  amount: string;
  /** The tickets the message is about. */
  count: number;
  firstName?: string;
}

export interface NotPaidContext extends Context {
  reason: "payment_failed" | "expired";
}

export interface RefundContext extends Context {
  refunded: string;
  /** All of the order's tickets, some of them, or an amount with no ticket named. */
  scope: "all" | "some" | "amount";
}

export interface CancelledContext extends Context {
  money: "refunded" | "not_charged";
  cancelReason: string | null;
}

export interface ChangedContext extends Context {
  dateChanged: boolean;
  venueChanged: boolean;
  beforeWhen: string;
  beforeVenue: string;
}

/** The phrases of one kind in one language. */
export interface KindPhrases<C extends Context> {
  subject(c: C): string;
  heading(c: C): string;
  body(c: C): string[];
  /** One SMS part: keep it short, the name is cut to fit. */
  sms(c: C): string;
  push(c: C): { title: string; body: string };
}

/** Everything a language supplies. */
export interface Phrases {
  locale: Locale;
  labels: {
    order: string;
    amount: string;
    event: string;
    date: string;
    venue: string;
    address: string;
    category: string;
    place: string;
    price: string;
    barcode: string;
    tickets: string;
    refunded: string;
    dateBefore: string;
    dateAfter: string;
    venueBefore: string;
    venueAfter: string;
    reason: string;
    buyer: string;
  };
  place: { row: string; seat: string; sector: string; general: string };
  /** Said instead of a date for an open-date event. */
  openDate: string;
  ticketTitle(index: number, total: number): string;
  /** Printed under the QR code of each PDF page. */
  pdfHint: string;
  tickets(count: number): string;
  greeting(firstName?: string): string;
  viewOrder: string;
  footer: string;
  order_paid: KindPhrases<Context>;
  order_not_paid: KindPhrases<NotPaidContext>;
  refund_done: KindPhrases<RefundContext>;
  event_cancelled: KindPhrases<CancelledContext>;
  event_changed: KindPhrases<ChangedContext>;
  event_reminder: KindPhrases<Context>;
}
