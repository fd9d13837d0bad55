import { DomainError, type Decider } from "../../lib/eventlog/decider";
import { forbidden, isAdmin, type Actor } from "../../lib/domain/actor";
import { checkSameSource, importedElsewhere, unknownReference } from "../../lib/domain/external";
import { id as validId } from "../../lib/domain/ids";
import { holdLapsed } from "../inventory/inventory.decider";
import type {
  CancelOrder,
  ClosePayment,
  CheckInTicket,
  ImportOrder,
  ImportRefund,
  IssueTickets,
  Order,
  OrderCommand,
  PaymentOutcome,
  RecordRefund,
  OrderEvent,
  OrderState,
  PlaceOrder,
  RefundTickets,
  Ticket,
} from "./orders.types";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const IMPORTED_ALLOWED: OrderCommand["type"][] = ["ImportOrder", "ImportRefund", "CheckInTicket", "ExpireOrder"];
const PHONE = /^\+[1-9]\d{7,14}$/;

function invalid(field: string, message: string): DomainError {
  return new DomainError("VALIDATION", message, 400, { field });
}

function missing(id: string): DomainError {
  return new DomainError("NOT_FOUND", `order ${id} does not exist`, 404, { id });
}

function existing(state: OrderState, id: string): Order {
  if (!state) throw missing(id);
  return state;
}

/**
 * Commands a person may send about an existing order. Whoever is not a party of it learns
 * nothing: they get the same 404 as for an order that does not exist, whatever its state.
 * (PlaceOrder has no order yet; the door and the partner bridge have their own rules.)
 */
const PARTY_ONLY: ReadonlySet<OrderCommand["type"]> = new Set([
  "AttachPayment",
  "IssueTickets",
  "ExpireOrder",
  "CancelOrder",
  "ClosePayment",
  "RecordRefund",
  "RefundTickets",
]);

/** The buyer, the event's organizer and admins may see and act on an order; nobody else. */
export function isOrderParty(actor: Actor, order: Pick<Order, "userId" | "organizerId">): boolean {
  return (
    isAdmin(actor) || actor.sub === order.userId || (actor.roles.includes("organizer") && actor.organizerId === order.organizerId)
  );
}

function mayRefund(actor: Actor, order: Order): void {
  if (isAdmin(actor)) return;
  if (actor.roles.includes("organizer") && actor.organizerId === order.organizerId) return;
  throw forbidden(`only the event's organizer may refund order ${order.id}`);
}

function placeOrder(command: PlaceOrder, state: OrderState): OrderEvent[] {
  if (state) return [];
  if (!EMAIL.test(command.customer.email)) throw invalid("customer.email", "customer.email must be an e-mail address");
  if (!PHONE.test(command.customer.phone))
    throw invalid("customer.phone", "customer.phone must have a country code, e.g. +79001234567");
  if (command.lines.length === 0) throw invalid("items", "an order needs at least one ticket");
  for (const line of command.lines) {
    if (!Number.isInteger(line.unitPrice) || line.unitPrice < 0)
      throw invalid("price", `price of ${line.categoryId} must be whole minor units`);
    if (!Number.isInteger(line.quantity) || line.quantity < 1) throw invalid("quantity", "quantity must be a positive integer");
  }
  // The expiry is the hold's, set by us: past already means the request queued that long.
  if (command.expiresAt <= command.at) throw holdLapsed();
  const amount = command.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
  const { type: _type, actor, at, ...rest } = command;
  return [{ type: "OrderPlaced", data: { ...rest, userId: actor.sub, amount, createdAt: at } }];
}

function issueTickets(command: IssueTickets, order: Order): OrderEvent[] {
  if (order.status === "paid" && (order.payment?.id ?? null) === command.paymentId) return [];
  // Expired, like cancelled, is final: its stock is given back (sales.stock-release), so tickets
  // issued now would have no place behind them. A payment that settles late is cancelled.
  if (order.status !== "awaiting_payment") {
    throw new DomainError("ORDER_CLOSED", `order ${order.id} is ${order.status}: the payment must be cancelled`, 409);
  }
  if ((order.payment?.id ?? null) !== command.paymentId) {
    throw new DomainError("PAYMENT_MISMATCH", `payment ${command.paymentId} is not the payment of order ${order.id}`, 409);
  }
  if (command.paidAmount !== order.amount || command.paidCurrency !== order.currency) {
    throw new DomainError(
      "PAYMENT_MISMATCH",
      `paid ${command.paidAmount} ${command.paidCurrency}, the order is ${order.amount} ${order.currency}`,
      409,
    );
  }
  const expected = order.lines.reduce((n, l) => n + l.quantity, 0);
  if (command.tickets.length !== expected)
    throw new Error(`order ${order.id}: ${command.tickets.length} tickets for ${expected} places`);
  const tickets: Ticket[] = command.tickets.map((t) => ({ ...t, status: "active" }));
  const { eventId, organizerId, userId, customer } = order;
  return [
    {
      type: "TicketsIssued",
      data: { id: order.id, paymentId: command.paymentId, eventId, organizerId, userId, customer, tickets },
    },
  ];
}

function cancelOrder(command: CancelOrder, order: Order): OrderEvent[] {
  if (order.status === "cancelled" || order.status === "expired") return [];
  if (order.status !== "awaiting_payment")
    throw new DomainError("ORDER_PAID", `order ${order.id} is paid: refund it instead`, 409);
  return [{ type: "OrderCancelled", data: { id: order.id, reason: command.reason } }];
}

function closePayment(command: ClosePayment, order: Order): OrderEvent[] {
  if (order.payment?.id !== command.paymentId)
    throw new DomainError("PAYMENT_MISMATCH", `payment ${command.paymentId} is not the payment of order ${order.id}`, 409);
  if (order.payment.closed) return [];
  if (order.status !== "awaiting_payment" && order.status !== "expired" && order.status !== "cancelled")
    throw new DomainError("ORDER_PAID", `order ${order.id} is ${order.status}, but its payment was never captured`, 409);
  const closed: OrderEvent = {
    type: "PaymentClosed",
    data: { id: order.id, paymentId: command.paymentId, outcome: command.outcome },
  };
  // Nothing can pay for it any more: the order ends with its payment.
  if (order.status === "awaiting_payment")
    return [{ type: "OrderCancelled", data: { id: order.id, reason: "payment_failed" } }, closed];
  return [closed];
}

/** A refund's state at the provider, once per change; a final state (succeeded, canceled) never goes back. */
function recordRefund(command: RecordRefund, order: Order): OrderEvent[] {
  if (!order.refundIds.includes(command.refundId))
    throw invalid("refundId", `order ${order.id} has no refund ${command.refundId}`);
  const known = order.refunds?.find((r) => r.refundId === command.refundId);
  if (known && known.providerRefundId !== command.providerRefundId)
    throw new DomainError("REFUND_MISMATCH", `refund ${command.refundId} is ${known.providerRefundId} at the provider`, 409);
  if (known && (known.status === command.status || known.status !== "pending")) return [];
  const { refundId, providerRefundId, status } = command;
  return [{ type: "RefundRecorded", data: { id: order.id, refundId, providerRefundId, status } }];
}

/** What the provider says about a payment, as the settlement reads it. */
export interface ProviderPayment {
  id: string;
  /** `unknown`: the provider does not know the payment (it holds no money for it). */
  status: "pending" | "waiting_for_capture" | "succeeded" | "canceled" | "unknown";
  /** Minor units; absent when unknown. */
  amount?: number;
  currency?: string;
}

/** The one thing to do about an order's payment given what the provider says about it now. */
export type PaymentAction =
  | { action: "none" }
  /** Tickets issued: take the money. */
  | { action: "capture" }
  /** Authorised for an order that may still get its tickets: sell them, issue them, capture. */
  | { action: "sell" }
  /** Authorised (or still payable) for tickets the buyer will not get: release the money. */
  | { action: "cancel"; why: string }
  /** The provider holds no money: record it (an unpaid order ends with it). */
  | { action: "close"; outcome: PaymentOutcome }
  /** Something only a person can sort out (money and tickets disagree). */
  | { action: "alarm"; why: string };

const PAID: ReadonlyArray<Order["status"]> = ["paid", "partially_refunded", "refunded"];

/** Its tickets were issued (whatever was refunded since). */
export function isPaid(order: Pick<Order, "status">): boolean {
  return PAID.includes(order.status);
}

/**
 * Settlement as a pure rule: the same answer for a webhook, an order closing and the
 * reconciliation sweep, whatever order they come in. An authorised payment is always either
 * sold and captured or cancelled; a closed order never keeps a payable payment.
 */
export function paymentAction(order: Order, payment: ProviderPayment): PaymentAction {
  if (order.payment?.id !== payment.id)
    return payment.status === "waiting_for_capture"
      ? { action: "cancel", why: "it belongs to no order of ours" }
      : { action: "none" };
  const paid = isPaid(order);
  const closed = order.status === "expired" || order.status === "cancelled";
  switch (payment.status) {
    case "unknown":
    case "canceled":
      if (paid) return { action: "alarm", why: `the provider says ${payment.status}, but the order's tickets were issued` };
      // Unknown is no reason to end an order that may still be paid (a shop misconfigured answers 404 to all): expiry will.
      if (payment.status === "unknown" && order.status === "awaiting_payment") return { action: "none" };
      return order.payment.closed ? { action: "none" } : { action: "close", outcome: payment.status };
    case "pending":
      // A closed order must not stay payable: the buyer would pay for tickets they will not get.
      return closed && !order.payment.closed ? { action: "cancel", why: `the order is ${order.status}` } : { action: "none" };
    case "succeeded":
      return paid ? { action: "none" } : { action: "alarm", why: "captured, but the order has no tickets" };
    case "waiting_for_capture":
      if (order.status === "paid") return { action: "capture" };
      // Expired is final like cancelled: its stock went back (sales.stock-release). An order
      // authorised in time is sold at its deadline instead of expiring (expiry.ts).
      if (order.status !== "awaiting_payment") return { action: "cancel", why: `the order is ${order.status}` };
      if (payment.amount !== order.amount || payment.currency !== order.currency)
        return { action: "cancel", why: "the amount does not match the order" };
      return { action: "sell" };
  }
}

function refundTickets(command: RefundTickets, order: Order): OrderEvent[] {
  mayRefund(command.actor, order);
  if (order.refundIds.includes(command.refundId)) return [];
  if (order.status !== "paid" && order.status !== "partially_refunded") {
    throw new DomainError("NOT_REFUNDABLE", `order ${order.id} is ${order.status}`, 409);
  }
  const active = order.tickets.filter((t) => t.status === "active");
  const ids = command.ticketIds ?? active.map((t) => t.id);
  if (ids.length === 0) throw new DomainError("NOT_REFUNDABLE", `order ${order.id} has no active tickets`, 409);
  for (const id of ids) {
    const ticket = order.tickets.find((t) => t.id === id);
    if (!ticket) throw invalid("ticketIds", `ticket ${id} is not in order ${order.id}`);
    if (ticket.status !== "active")
      throw new DomainError("TICKET_NOT_ACTIVE", `ticket ${id} is ${ticket.status}`, 409, { ticketId: id });
  }
  const refunded = order.tickets.filter((t) => ids.includes(t.id));
  const amount = refunded.reduce((sum, t) => sum + t.price, 0);
  return [
    {
      type: "TicketsRefunded",
      data: {
        id: order.id,
        refundId: command.refundId,
        ticketIds: [...new Set(ids)],
        tickets: refunded.map(({ id, categoryId, price }) => ({ id, categoryId, price })),
        amount,
        eventId: order.eventId,
        paymentId: order.payment?.id ?? null,
        currency: order.currency,
      },
    },
  ];
}

/** Imported barcodes: whatever the partner's scanners read, stored upper-case (the door looks them up so). */
const BARCODE = /^[0-9A-Z]{4,64}$/;

/**
 * A partner's order. A completed one is imported once with its tickets (a repeat, or an older
 * version arriving late, changes nothing); a cancelled one voids the tickets still valid. An
 * order that was never completed here brings nothing.
 */
function importOrder(command: ImportOrder, state: OrderState): OrderEvent[] {
  const orderId = validId(command.id, "id");
  if (state) checkSameSource("order", orderId, state.source, command.source);
  if (command.status === "cancelled") {
    if (!state || state.status === "cancelled") return [];
    const ticketIds = state.tickets.filter((t) => t.status === "active").map((t) => t.id);
    return [{ type: "ImportedOrderCancelled", data: { id: state.id, ticketIds } }];
  }
  if (command.status !== "done") throw invalid("status", `status ${String(command.status)} cannot be imported`);
  // Tickets do not change once sold; what happens to them later comes as refunds or a cancellation.
  if (state) return [];
  const event = command.event;
  if (!event) throw unknownReference("event", command.eventId);
  if (event.id !== command.eventId) throw invalid("event", "must be the event named by eventId");
  if (event.source?.partner !== command.source.partner)
    throw new DomainError("NOT_IMPORTED", `event ${event.id} is not ${command.source.partner}'s: its orders are ours`, 409);
  if (command.organizerId !== undefined && command.organizerId !== event.organizerId)
    throw invalid("org", `names organizer ${command.organizerId}, but event ${event.id} belongs to ${event.organizerId}`);
  // Contact data is not what makes a ticket valid (a box-office sale has none): what is missing
  // or not an address is recorded as unknown (""), never a reason to refuse the tickets.
  const email = EMAIL.test(command.customer.email.trim()) ? command.customer.email.trim() : "";
  const phone = PHONE.test(command.customer.phone.trim()) ? command.customer.phone.trim() : "";
  if (command.tickets.length === 0) throw invalid("tickets", `completed order ${orderId} has no tickets`);
  const ids = new Set<string>();
  const barcodes = new Set<string>();
  const sets = new Map((event.ticketSets ?? []).map((s) => [s.id, s.name]));
  const tickets: Ticket[] = command.tickets.map((t, i) => {
    const ticketId = validId(t.id, `tickets[${i}].id`);
    if (ids.has(ticketId)) throw invalid("tickets", `lists ticket ${ticketId} twice`);
    ids.add(ticketId);
    if (typeof t.barcode !== "string" || !BARCODE.test(t.barcode))
      throw invalid(`tickets[${i}].barcode`, `tickets[${i}].barcode must be 4 to 64 letters and digits, got "${t.barcode}"`);
    if (barcodes.has(t.barcode)) throw invalid("tickets", `lists barcode ${t.barcode} twice`);
    barcodes.add(t.barcode);
    if (!Number.isSafeInteger(t.price) || t.price < 0)
      throw invalid(`tickets[${i}].price`, `tickets[${i}].price must be whole minor units`);
    return {
      id: ticketId,
      barcode: t.barcode,
      series: t.series,
      number: t.number,
      categoryId: t.categoryId,
      categoryName: sets.get(t.categoryId) ?? t.categoryId,
      ...(t.sector ? { sector: t.sector } : {}),
      ...(t.row ? { row: t.row } : {}),
      ...(t.seat ? { seat: t.seat } : {}),
      price: t.price,
      currency: command.currency,
      status: "active",
    };
  });
  const { firstName, lastName } = command.customer;
  const order: Order = {
    id: orderId,
    number: command.number,
    eventId: event.id,
    organizerId: event.organizerId,
    customer: { email, phone, ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) },
    userId: command.userId,
    lines: [],
    amount: tickets.reduce((sum, t) => sum + t.price, 0),
    currency: command.currency,
    status: "paid",
    expiresAt: 0,
    payment: null,
    tickets,
    refundedAmount: 0,
    refundIds: [],
    createdAt: command.createdAt ?? command.at,
    source: { partner: command.source.partner, id: command.source.id },
  };
  return [{ type: "OrderImported", data: order as Order & { source: ImportOrder["source"] } }];
}

/** A refund the partner approved: the tickets it names that are still valid become refunded, once. */
function importRefund(command: ImportRefund, state: OrderState): OrderEvent[] {
  if (!state) throw unknownReference("order", command.id);
  if (!state.source || state.source.partner !== command.source.partner)
    throw new DomainError("NOT_IMPORTED", `order ${state.id} is not ${command.source.partner}'s: it is refunded here`, 409);
  if (state.refundIds.includes(command.refundId)) return [];
  if (command.eventId !== undefined && command.eventId !== state.eventId)
    throw invalid("event", `names event ${command.eventId}, but order ${state.id} is of event ${state.eventId}`);
  if (command.organizerId !== undefined && command.organizerId !== state.organizerId)
    throw invalid("org", `names organizer ${command.organizerId}, but order ${state.id} belongs to ${state.organizerId}`);
  const valid = (t: Ticket) => t.status === "active" || t.status === "used";
  const ids = command.ticketIds.length > 0 ? [...new Set(command.ticketIds)] : state.tickets.filter(valid).map((t) => t.id);
  const missing = ids.filter((id) => !state.tickets.some((t) => t.id === id));
  if (missing.length > 0) throw invalid("tickets", `ticket ${missing.join(", ")} is not in order ${state.id}`);
  const refunded = state.tickets.filter((t) => ids.includes(t.id) && valid(t));
  if (refunded.length === 0) return [];
  return [
    {
      type: "ImportedTicketsRefunded",
      data: {
        id: state.id,
        refundId: command.refundId,
        ticketIds: refunded.map((t) => t.id),
        amount: refunded.reduce((sum, t) => sum + t.price, 0),
        eventId: state.eventId,
      },
    },
  ];
}

/** A cancelled event admits no one, whoever sold the ticket (nothing refunds imported orders). */
export function checkEventAdmits(eventStatus: CheckInTicket["eventStatus"], eventId: string): void {
  if (eventStatus === "cancelled")
    throw new DomainError("EVENT_CANCELLED", `event ${eventId} was cancelled: its tickets admit no one`, 409, { eventId });
}

/** Admits a ticket once: a second scan says when it was first used. */
function checkIn(command: CheckInTicket, order: Order): OrderEvent[] {
  const ticket = order.tickets.find((t) => t.id === command.ticketId);
  if (!ticket) throw new DomainError("TICKET_NOT_FOUND", `no ticket ${command.ticketId} in order ${order.id}`, 404);
  checkEventAdmits(command.eventStatus, order.eventId);
  if (ticket.status === "used") {
    throw new DomainError("TICKET_ALREADY_USED", `ticket already used at ${new Date(ticket.usedAt!).toISOString()}`, 409, {
      ticketId: ticket.id,
      usedAt: ticket.usedAt,
    });
  }
  if (ticket.status !== "active") {
    throw new DomainError("TICKET_NOT_VALID", `ticket is ${ticket.status}`, 409, { ticketId: ticket.id, status: ticket.status });
  }
  return [{ type: "TicketCheckedIn", data: { id: order.id, ticketId: ticket.id, at: command.at } }];
}

/**
 * One order from placement to payment, expiry, cancellation and refunds. Amounts come from the
 * order's own priced lines; tickets are issued only for the exact amount the provider confirmed.
 */
export const orderDecider: Decider<OrderCommand, OrderEvent, OrderState> = {
  initialState: () => null,
  decide: (command, state) => {
    // Ownership before anything else: no early return for a closed order, no refusal naming it.
    if (state && PARTY_ONLY.has(command.type) && !isOrderParty(command.actor, state)) throw missing(state.id);
    // An imported order was sold by the partner: only its messages change it, and the door admits its tickets.
    if (state?.source && !IMPORTED_ALLOWED.includes(command.type)) throw importedElsewhere("order", state.id, state.source);
    if (command.type === "ImportOrder") return importOrder(command, state);
    if (command.type === "ImportRefund") return importRefund(command, state);
    if (command.type === "PlaceOrder") return placeOrder(command, state);
    const order = existing(state, command.id);
    switch (command.type) {
      case "AttachPayment":
        if (order.payment?.id === command.paymentId) return [];
        if (order.payment)
          throw new DomainError("PAYMENT_MISMATCH", `order ${order.id} already has payment ${order.payment.id}`, 409);
        if (order.status !== "awaiting_payment")
          throw new DomainError("ORDER_CLOSED", `order ${order.id} is ${order.status}`, 409);
        return [
          {
            type: "PaymentAttached",
            data: { id: order.id, paymentId: command.paymentId, confirmationUrl: command.confirmationUrl },
          },
        ];
      case "IssueTickets":
        return issueTickets(command, order);
      case "ExpireOrder":
        if (order.status !== "awaiting_payment") return [];
        if (command.at < order.expiresAt)
          throw new DomainError("ORDER_NOT_DUE", `order ${order.id} expires at ${new Date(order.expiresAt).toISOString()}`, 409);
        return [{ type: "OrderExpired", data: { id: order.id } }];
      case "CancelOrder":
        return cancelOrder(command, order);
      case "ClosePayment":
        return closePayment(command, order);
      case "RecordRefund":
        return recordRefund(command, order);
      case "RefundTickets":
        return refundTickets(command, order);
      case "CheckInTicket":
        return checkIn(command, order);
    }
  },
  evolve: (state, event) => {
    if (event.type === "OrderPlaced") {
      return { ...event.data, status: "awaiting_payment", payment: null, tickets: [], refundedAmount: 0, refundIds: [] };
    }
    if (event.type === "OrderImported") return event.data;
    const order = state!;
    switch (event.type) {
      case "PaymentAttached":
        return { ...order, payment: { id: event.data.paymentId, confirmationUrl: event.data.confirmationUrl } };
      case "TicketsIssued":
        return { ...order, status: "paid", tickets: event.data.tickets };
      case "OrderExpired":
        return { ...order, status: "expired" };
      case "OrderCancelled":
        return { ...order, status: "cancelled" };
      case "RefundRecorded": {
        const { id: _id, ...refund } = event.data;
        return { ...order, refunds: [...(order.refunds ?? []).filter((r) => r.refundId !== refund.refundId), refund] };
      }
      case "PaymentClosed":
        return { ...order, payment: order.payment && { ...order.payment, closed: event.data.outcome } };
      case "TicketCheckedIn":
        return {
          ...order,
          tickets: order.tickets.map((t): Ticket =>
            t.id === event.data.ticketId ? { ...t, status: "used", usedAt: event.data.at } : t,
          ),
        };
      case "ImportedOrderCancelled":
        return {
          ...order,
          status: "cancelled",
          tickets: order.tickets.map((t): Ticket => (event.data.ticketIds.includes(t.id) ? { ...t, status: "cancelled" } : t)),
        };
      case "ImportedTicketsRefunded":
      case "TicketsRefunded": {
        const tickets = order.tickets.map((t): Ticket =>
          event.data.ticketIds.includes(t.id) ? { ...t, status: "refunded" } : t,
        );
        return {
          ...order,
          tickets,
          status: tickets.some((t) => t.status === "active" || t.status === "used") ? "partially_refunded" : "refunded",
          refundedAmount: order.refundedAmount + event.data.amount,
          refundIds: [...order.refundIds, event.data.refundId],
        };
      }
    }
  },
};
