import type { CommandBase } from "../../lib/domain/actor";
import type { ExternalSource } from "../../lib/domain/external";
import type { EventStatus } from "../events/events.types";
import type { HoldLine } from "../inventory/inventory.types";

export function orderStream(id: string): string {
  return `order-${id}`;
}

export const ORDER_STATUSES = ["awaiting_payment", "paid", "expired", "cancelled", "partially_refunded", "refunded"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Customer {
  email: string;
  /** With the country code: +79001234567. */
  phone: string;
  firstName?: string;
  lastName?: string;
}

/** One priced line of an order: what the buyer asked for in one category. */
export interface OrderLine extends HoldLine {
  categoryName: string;
  /** Price of one ticket, in minor units. */
  unitPrice: number;
}

export interface Ticket {
  id: string;
  /** Unguessable: random, never derived from ids (the service generates it). */
  barcode: string;
  series: string;
  number: string;
  categoryId: string;
  categoryName: string;
  row?: string;
  seat?: string;
  /** The venue's seat id (section:row:seat) for seated tickets. */
  seatId?: string;
  /** Imported tickets: the partner's sector. */
  sector?: string;
  price: number;
  currency: string;
  status: "active" | "used" | "refunded" | "cancelled";
  /** When it was scanned at the door. */
  usedAt?: number;
}

export interface Order {
  id: string;
  number: string;
  eventId: string;
  organizerId: string;
  customer: Customer;
  /** Who placed it (the token's subject), for "my orders". */
  userId: string;
  lines: OrderLine[];
  amount: number;
  currency: string;
  status: OrderStatus;
  expiresAt: number;
  payment: OrderPayment | null;
  tickets: Ticket[];
  refundedAmount: number;
  /** Refunds already applied, so a repeated refund changes nothing. */
  refundIds: string[];
  /** The provider's side of the refunds that returned money: its refund id and what it says of it. */
  refunds?: ProviderRefund[];
  createdAt: number;
  /** Set when the order was imported from a partner's stream: its tickets were sold there. */
  source?: ExternalSource;
}

export type OrderState = Order | null;

export interface ProviderRefund {
  /** Ours (TicketsRefunded.refundId). */
  refundId: string;
  /** The provider's refund id, matched against refund notifications. */
  providerRefundId: string;
  status: "pending" | "succeeded" | "canceled";
}

/**
 * How a payment ended without being captured: cancelled at the provider (by us, the bank or
 * the provider's deadline), or unknown to the provider (it holds no money for it).
 */
export type PaymentOutcome = "canceled" | "unknown";

export interface OrderPayment {
  id: string;
  confirmationUrl: string;
  /** Set once the provider holds no money for it any more: nothing left to cancel or capture. */
  closed?: PaymentOutcome;
}

export interface PlaceOrder extends CommandBase {
  type: "PlaceOrder";
  id: string;
  number: string;
  eventId: string;
  organizerId: string;
  customer: Customer;
  lines: OrderLine[];
  currency: string;
  expiresAt: number;
}

export interface AttachPayment extends CommandBase {
  type: "AttachPayment";
  id: string;
  paymentId: string;
  confirmationUrl: string;
}

/** The payment is authorised and the tickets are ours: issue them. */
export interface IssueTickets extends CommandBase {
  type: "IssueTickets";
  id: string;
  /** Null for a free order: nothing was paid. */
  paymentId: string | null;
  /** Paid amount as the provider reported it, in minor units: must equal the order's. */
  paidAmount: number;
  paidCurrency: string;
  tickets: Omit<Ticket, "status">[];
}

export interface ExpireOrder extends CommandBase {
  type: "ExpireOrder";
  id: string;
}

export interface CancelOrder extends CommandBase {
  type: "CancelOrder";
  id: string;
  reason: "customer" | "payment_failed" | "hold_lost" | "event_cancelled";
}

/** The provider says the order's payment will never be captured: an unpaid order is cancelled with it. */
export interface ClosePayment extends CommandBase {
  type: "ClosePayment";
  id: string;
  paymentId: string;
  outcome: PaymentOutcome;
}

/** What the provider says of a refund we asked for. */
export interface RecordRefund extends CommandBase, ProviderRefund {
  type: "RecordRefund";
  id: string;
}

export interface RefundTickets extends CommandBase {
  type: "RefundTickets";
  id: string;
  refundId: string;
  /** Omitted: every active ticket. */
  ticketIds?: string[];
}

/** A ticket scanned at the door. */
export interface CheckInTicket extends CommandBase {
  type: "CheckInTicket";
  id: string;
  ticketId: string;
  /** The event's status now, loaded by the service from the catalogue log ("cancelled" admits no one). */
  eventStatus?: EventStatus;
}

/** What an import knows of the order's event, loaded by the service from the catalogue. */
export interface ImportedEventRef {
  id: string;
  organizerId: string;
  source?: ExternalSource;
  ticketSets?: Array<{ id: string; name: string }>;
}

/** A ticket of a partner's order, translated to our ids by the bridge. */
export interface ImportedTicket {
  id: string;
  barcode: string;
  series: string;
  number: string;
  /** The partner's ticket set (category) id. */
  categoryId: string;
  sector?: string;
  row?: string;
  seat?: string;
  price: number;
}

/**
 * A partner's order as its stream describes it now. A completed order brings its tickets
 * (for the door and the holder's list); a cancelled one voids the tickets it brought.
 */
export interface ImportOrder extends CommandBase {
  type: "ImportOrder";
  id: string;
  source: ExternalSource;
  status: "done" | "cancelled";
  number: string;
  eventId: string;
  /** Loaded by the service from the event's stream; null when the event was not imported. */
  event: ImportedEventRef | null;
  /** The organizer the message names, if it names one: it must be the event's. */
  organizerId?: string;
  customer: Customer;
  /** The partner's customer, never one of our users. */
  userId: string;
  currency: string;
  tickets: ImportedTicket[];
  createdAt?: number;
}

/** A refund the partner approved: its tickets become refunded (the money went back there). */
export interface ImportRefund extends CommandBase {
  type: "ImportRefund";
  /** The order. */
  id: string;
  refundId: string;
  source: ExternalSource;
  /** Empty: every ticket still valid. */
  ticketIds: string[];
  /** The event and organizer the message names, if it names them: they must be the order's. */
  eventId?: string;
  organizerId?: string;
}

export type OrderCommand =
  | PlaceOrder
  | AttachPayment
  | IssueTickets
  | ExpireOrder
  | CancelOrder
  | ClosePayment
  | RecordRefund
  | RefundTickets
  | CheckInTicket
  | ImportOrder
  | ImportRefund;

export type OrderEvent =
  | { type: "OrderPlaced"; data: Omit<Order, "status" | "payment" | "tickets" | "refundedAmount" | "refundIds"> }
  /** The whole imported order, paid, with its tickets. */
  | { type: "OrderImported"; data: Order & { source: ExternalSource } }
  | { type: "ImportedOrderCancelled"; data: { id: string; ticketIds: string[] } }
  | {
      type: "ImportedTicketsRefunded";
      data: { id: string; refundId: string; ticketIds: string[]; amount: number; eventId: string };
    }
  | { type: "PaymentAttached"; data: { id: string; paymentId: string; confirmationUrl: string } }
  | {
      type: "TicketsIssued";
      data: {
        id: string;
        paymentId: string | null;
        eventId: string;
        organizerId: string;
        userId: string;
        customer: Customer;
        tickets: Ticket[];
      };
    }
  | { type: "TicketCheckedIn"; data: { id: string; ticketId: string; at: number } }
  | { type: "OrderExpired"; data: { id: string } }
  | { type: "OrderCancelled"; data: { id: string; reason: CancelOrder["reason"] } }
  | { type: "PaymentClosed"; data: { id: string; paymentId: string; outcome: PaymentOutcome } }
  | { type: "RefundRecorded"; data: ProviderRefund & { id: string } }
  | {
      type: "TicketsRefunded";
      data: {
        id: string;
        refundId: string;
        ticketIds: string[];
        /** What each refunded ticket was sold as; absent in refunds recorded before it was added. */
        tickets?: Array<Pick<Ticket, "id" | "categoryId" | "price">>;
        amount: number;
        eventId: string;
        paymentId: string | null;
        currency: string;
      };
    };
