/**
 * What a message is rendered from: gathered by the notification service when it sends
 * (from the order, its event and venue, and the buyer's profile), so a message sent again
 * after a restart says what is true then.
 */
import type { Channel, Locale, NotificationKind } from "../../lib/domain/notifications";

export interface TicketView {
  id: string;
  barcode: string;
  categoryName: string;
  row?: string;
  seat?: string;
  sector?: string;
  /** Minor units. */
  price: number;
  currency: string;
  status: "active" | "used" | "refunded" | "cancelled";
}

export interface EventView {
  id: string;
  name: string;
  /** Epoch ms; null for an open-date event. */
  startsAt: number | null;
  /** IANA zone the dates are shown in. */
  timezone: string;
  venue: { name: string; address: string; city: string };
  /** ISO 3166-1 alpha-2 of the venue, when known (the message's language when the buyer chose none). */
  country: string | null;
  cancelReason: string | null;
}

export interface OrderView {
  id: string;
  number: string;
  /** Minor units. */
  amount: number;
  refundedAmount: number;
  currency: string;
  customer: { email: string; phone: string; firstName?: string; lastName?: string };
  tickets: TicketView[];
  /** The buyer's page of the order (signed link), for "view your order" buttons. */
  url: string;
}

interface Base {
  locale: Locale;
  order: OrderView;
  event: EventView;
}

export type NotificationData =
  | (Base & { kind: "order_paid" })
  | (Base & { kind: "order_not_paid"; reason: "payment_failed" | "expired" })
  | (Base & { kind: "refund_done"; refund: { amount: number; currency: string; ticketIds: string[] } })
  /** Paid orders are refunded in full; unpaid ones were cancelled with nothing charged. */
  | (Base & { kind: "event_cancelled"; money: "refunded" | "not_charged" })
  | (Base & { kind: "event_changed"; before: { startsAt: number | null; timezone: string; venue: EventView["venue"] } })
  | (Base & { kind: "event_reminder" });

/** One message in every form a channel needs. */
export interface RenderedNotification {
  subject: string;
  text: string;
  html: string;
  /** One SMS (keep it under ~140 characters of Cyrillic where possible: it is billed per part). */
  sms: string;
  push: { title: string; body: string };
  /** The receipt's tickets as a PDF, one page per ticket with its QR code (order_paid by e-mail only). */
  attachments: Array<{ filename: string; content: Buffer; contentType: string }>;
}

/** A message for one channel: only an e-mail carries attachments (an SMS or a push makes no PDF). */
export type Renderer = (data: NotificationData, channel: Channel) => Promise<RenderedNotification>;

export type { NotificationKind };
