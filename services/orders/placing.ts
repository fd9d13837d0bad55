import { randomBytes, randomUUID } from "node:crypto";
import { Errors } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { Payment } from "../../lib/ports/yookassa/yookassa.port";
import type { EventAggregates } from "../events/event-aggregates";
import { eventStream } from "../events/events.types";
import type { HoldResult } from "../inventory/inventory.service";
import type { Request } from "../inventory/inventory.types";
import { requireAdmission } from "../waiting-room/admission";
import { confirmation, customerKey, runOrderCommand, type OrdersService } from "./order-commands";
import type { Customer, Order, OrderLine, Ticket } from "./orders.types";

export interface CreateParams {
  eventId: string;
  items?: Array<{ categoryId: string; quantity: number }>;
  seats?: Array<{ categoryId: string; seatId: string }>;
  /** Absent: the buyer's profile gives the contact data (see buyer.ts). */
  customer?: Customer;
  /** The waiting room's admission (required for an event that has one). */
  admissionToken?: string;
}

/** Holds the tickets and records the order; the first half of placing one. */
export async function placeOrder(
  rt: Runtime,
  svc: OrdersService,
  events: EventAggregates,
  ctx: AppContext<CreateParams>,
  id: string,
  customer: Customer,
): Promise<Order> {
  const user = ctx.meta.user!;
  const { eventId } = ctx.params;
  const event = await events.load(eventStream(eventId));
  if (!event || event.status === "draft")
    throw new Errors.MoleculerClientError(`event ${eventId} does not exist`, 404, "NOT_FOUND");
  if (event.source)
    throw new Errors.MoleculerClientError(
      `tickets for event ${eventId} are sold by ${event.source.partner}`,
      409,
      "SOLD_ELSEWHERE",
    );
  if (event.status !== "on_sale")
    throw new Errors.MoleculerClientError(`sales for event ${eventId} are ${event.status}`, 409, "SALES_CLOSED");
  requireAdmission(rt.admissions, event, user.sub, ctx.params.admissionToken, Date.now());
  const requests: Request[] = [...(ctx.params.items ?? []), ...(ctx.params.seats ?? [])];
  if (requests.length === 0)
    throw new Errors.MoleculerClientError("an order needs items or seats", 422, "VALIDATION", { field: "items" });
  const hold = await ctx.call<HoldResult, Record<string, unknown>>("inventory.hold", {
    eventId,
    holdId: id,
    orderId: id,
    customerKey: customerKey(user.sub),
    requests,
    expiresAt: Date.now() + rt.config.sales.holdTtlMs,
  });
  const lines: OrderLine[] = hold.lines.map((l) => {
    const category = event.categories.find((c) => c.id === l.categoryId)!;
    return { ...l, categoryName: category.name, unitPrice: category.price };
  });
  const number = `TL-${id.replace(/-/g, "").slice(0, 10).toUpperCase()}`;
  const command = {
    type: "PlaceOrder" as const,
    id,
    number,
    eventId,
    organizerId: event.organizerId,
    customer,
    lines,
    currency: event.categories[0].currency,
    expiresAt: hold.expiresAt,
  };
  try {
    return (await runOrderCommand(svc, ctx, id, command, "place")).state!;
  } catch (err) {
    await ctx.call("inventory.release", { eventId, holdId: id, reason: "cancelled" }).catch(() => undefined);
    throw err;
  }
}

/** Nothing to pay (free tickets): sell the hold and issue the tickets at once. */
export async function issueFree(svc: OrdersService, ctx: AppContext, order: Order): Promise<Order> {
  await ctx.call("inventory.confirm", confirmation(order));
  const issued = await runOrderCommand(
    svc,
    ctx,
    order.id,
    {
      type: "IssueTickets",
      id: order.id,
      paymentId: null,
      paidAmount: 0,
      paidCurrency: order.currency,
      tickets: issueTickets(order),
    },
    "issue-free",
  );
  return issued.state!;
}

/** Creates the two-stage payment (its idempotence key makes a retry safe) and attaches it. */
export async function attachPayment(rt: Runtime, svc: OrdersService, ctx: AppContext, order: Order): Promise<Order> {
  let payment: Payment;
  try {
    payment = await rt.payments.createPayment({
      amountMinor: order.amount,
      currency: order.currency,
      description: `Order ${order.number}`,
      returnUrl: rt.orderLinks.url(order.id),
      metadata: { orderId: order.id },
      idempotenceKey: `pay-${order.id}`,
      customer: { email: order.customer.email, phone: order.customer.phone },
    });
  } catch (err) {
    // The order keeps its hold: the buyer's retry (same Idempotency-Key) creates the payment
    // with the same idempotence key; without one, the order expires with its hold.
    svc.logger.warn(`order ${order.id}: payment could not be created: ${(err as Error).message}`);
    throw new Errors.MoleculerRetryableError(
      "the payment provider is not answering: try again in a moment",
      503,
      "PAYMENT_UNAVAILABLE",
    );
  }
  const attached = await runOrderCommand(
    svc,
    ctx,
    order.id,
    { type: "AttachPayment", id: order.id, paymentId: payment.id, confirmationUrl: payment.confirmation?.confirmation_url ?? "" },
    "attach",
  );
  return attached.state!;
}

/** Tickets with barcodes nobody can guess: 128 random bits, unrelated to any id. */
export function issueTickets(order: Order): Omit<Ticket, "status">[] {
  let n = 0;
  return order.lines.flatMap((line) =>
    Array.from({ length: line.quantity }, (_, i) => {
      const seat = line.seats?.[i]?.split(":");
      n++;
      return {
        id: randomUUID(),
        barcode: randomBytes(16).toString("hex").toUpperCase(),
        series: order.number,
        number: String(n).padStart(3, "0"),
        categoryId: line.categoryId,
        categoryName: line.categoryName,
        ...(seat ? { row: `${seat[0]}-${seat[1]}`, seat: seat[2], seatId: line.seats![i] } : {}),
        price: line.unitPrice,
        currency: order.currency,
      };
    }),
  );
}
