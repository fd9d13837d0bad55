import { createHash, randomBytes, randomUUID } from "node:crypto";
import { BlockList, isIPv6 } from "node:net";
import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { created, newId } from "../../lib/app/actions";
import { SYSTEM, type AppContext } from "../../lib/app/context";
import { notFound, toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import type { DistributiveOmit } from "../../lib/domain/objects";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { DomainError, loadAggregate, type CommandResult, type Decider } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { parseNotification } from "../../lib/ports/yookassa/yookassa.parse";
import { amountToMinor, YookassaError, type Payment } from "../../lib/ports/yookassa/yookassa.port";
import { EventSourced, systemContext, type CommandContext, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { Subscription } from "../../mixins/subscription.mixin";
import { eventDecider } from "../events/events.decider";
import { eventStream } from "../events/events.types";
import type { HoldResult } from "../inventory/inventory.service";
import { SALES_LOG, type Request } from "../inventory/inventory.types";
import { barcodeDecider, barcodeStream, type ClaimBarcode } from "./barcode.decider";
import { isOrderParty, orderDecider } from "./orders.decider";
import { ordersProjection, type OrderDoc } from "./orders.projection";
import { releaseIfClosed, StockRelease } from "./stock-release";
import {
  orderStream,
  type Customer,
  type ImportOrder,
  type ImportRefund,
  type Order,
  type OrderCommand,
  type OrderEvent,
  type OrderLine,
  type OrderState,
  type Ticket,
} from "./orders.types";

type Self = Service & EventSourcedMethods & ReadModelMethods;

/** A payment notification as recorded: only a pointer; the payment itself is always fetched. */
type NotificationEvent = { type: "PaymentNotified"; data: { paymentId: string; event: string } };
const notifications: Decider<{ paymentId: string; event: string }, NotificationEvent, null> = {
  initialState: () => null,
  decide: (command) => [{ type: "PaymentNotified", data: command }],
  evolve: () => null,
};

const ORDER_FIELDS = [
  "id",
  "number",
  "eventId",
  "organizerId",
  "customer",
  "lines",
  "amount",
  "currency",
  "status",
  "expiresAt",
  "payment",
  "tickets",
  "refundedAmount",
  "createdAt",
  "updatedAt",
];
const SWEEP_MS = 2000;

interface CreateParams {
  eventId: string;
  items?: Array<{ categoryId: string; quantity: number }>;
  seats?: Array<{ categoryId: string; seatId: string }>;
  customer: Customer;
}

/** Orders: hold, pay (two-stage YooKassa), issue tickets and capture, expire, cancel. */
export default function ordersService(rt: Runtime): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  const load = (id: string) => loadOrder(rt, id);
  const webhookSource = sourceCheck(rt.config.payments.webhookAllowlist, rt.config.payments.trustedProxies);
  let sweeper: NodeJS.Timeout | null = null;

  async function run(
    svc: Self,
    ctx: CommandContext,
    id: string,
    command: DistributiveOmit<OrderCommand, "actor" | "at">,
    name: string,
  ) {
    const full = { ...command, actor: ctx.meta.user ?? SYSTEM, at: Date.now() } as OrderCommand;
    return svc.execute(ctx, orderDecider, orderStream(id), full, name);
  }

  /** Holds the tickets and records the order; the first half of placing one. */
  async function placeOrder(svc: Self, ctx: AppContext<CreateParams>, id: string): Promise<Order> {
    const user = ctx.meta.user!;
    const { eventId } = ctx.params;
    const event = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(eventId));
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
      customer: ctx.params.customer,
      lines,
      currency: event.categories[0].currency,
      expiresAt: hold.expiresAt,
    };
    try {
      return (await run(svc, ctx, id, command, "place")).state!;
    } catch (err) {
      await ctx.call("inventory.release", { eventId, holdId: id, reason: "cancelled" }).catch(() => undefined);
      throw err;
    }
  }

  /** Nothing to pay (free tickets): sell the hold and issue the tickets at once. */
  async function issueFree(svc: Self, ctx: AppContext, order: Order): Promise<Order> {
    await ctx.call("inventory.confirm", confirmation(order));
    const issued = await run(
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
  async function attachPayment(svc: Self, ctx: AppContext, order: Order): Promise<Order> {
    let payment: Payment;
    try {
      payment = await rt.payments.createPayment({
        amountMinor: order.amount,
        currency: order.currency,
        description: `Order ${order.number}`,
        returnUrl: `${rt.config.http.publicUrl}/orders/${order.id}`,
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
    const attached = await run(
      svc,
      ctx,
      order.id,
      {
        type: "AttachPayment",
        id: order.id,
        paymentId: payment.id,
        confirmationUrl: payment.confirmation?.confirmation_url ?? "",
      },
      "attach",
    );
    return attached.state!;
  }

  return {
    name: "orders",
    mixins: [
      EventSourced(rt, SALES_LOG),
      ReadModel(rt, { projection: ordersProjection, fields: ORDER_FIELDS, sortable: ["createdAt"] }),
      StockRelease(rt),
      Subscription<Self>(rt, {
        name: "sales.refunds",
        log: SALES_LOG,
        types: ["TicketsRefunded"],
        partitionBy: (event) => (event.data as { id: string }).id,
        concurrency: 16,
        async handle(event) {
          await settleRefund(rt, event);
        },
      }),
      Subscription<Self>(rt, {
        name: "sales.event-cancellations",
        log: CATALOGUE_LOG,
        types: ["EventCancelled"],
        async handle(event) {
          await refundCancelledEvent(this, event, run);
        },
      }),
      Subscription<Self>(rt, {
        name: "sales.payments",
        log: SALES_LOG,
        types: ["PaymentNotified"],
        // Payments of different orders are independent: settle them side by side.
        partitionBy: (event) => (event.data as { paymentId: string }).paymentId,
        concurrency: 32,
        async handle(event) {
          await settlePayment(rt, this, event, run);
        },
      }),
    ],
    actions: {
      list: { visibility: "public" },
      create: {
        auth: "user",
        params: {
          eventId: { type: "string", max: 64 },
          items: {
            type: "array",
            optional: true,
            max: 20,
            items: {
              type: "object",
              strict: true,
              props: {
                categoryId: { type: "string", max: 64 },
                quantity: { type: "number", integer: true, positive: true, max: 100 },
              },
            },
          },
          seats: {
            type: "array",
            optional: true,
            max: 100,
            items: {
              type: "object",
              strict: true,
              props: { categoryId: { type: "string", max: 64 }, seatId: { type: "string", max: 100 } },
            },
          },
          customer: {
            type: "object",
            strict: true,
            props: {
              email: { type: "email" },
              phone: { type: "string", max: 20 },
              firstName: { type: "string", max: 100, optional: true },
              lastName: { type: "string", max: 100, optional: true },
            },
          },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<CreateParams>) {
          const id = newId(ctx, "order");
          // A retry of this request (same Idempotency-Key, or Moleculer after a timeout) finds the
          // order and finishes what the first attempt may not have: the payment.
          let order = (await load(id)) ?? (await placeOrder(this, ctx, id));
          if (!order.payment && (order.status === "expired" || order.status === "cancelled"))
            throw new Errors.MoleculerClientError(
              `order ${id} ${order.status === "expired" ? "expired" : "was cancelled"} before its payment could be created: place a new order`,
              409,
              "ORDER_CLOSED",
              { id, status: order.status },
            );
          if (!order.payment && order.status === "awaiting_payment")
            order =
              order.amount === 0
                ? await issueFree(this, ctx as unknown as AppContext, order)
                : await attachPayment(this, ctx as unknown as AppContext, order);
          return created(ctx as unknown as AppContext, `/api/orders/${id}`, view(order));
        },
      },
      get: {
        auth: "user",
        params: { id: { type: "string", max: 64 }, $$strict: "remove" },
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const order = await load(ctx.params.id);
          const user = ctx.meta.user!;
          // Someone else's order does not exist, as far as this caller can tell.
          if (!order || !isOrderParty(user, order)) throw notFound("order", ctx.params.id);
          return view(order);
        },
      },
      mine: {
        auth: "user",
        params: {
          page: { type: "number", integer: true, positive: true, convert: true, optional: true },
          pageSize: { type: "number", integer: true, positive: true, max: 100, convert: true, optional: true },
          $$strict: "remove",
        },
        handler(this: Self, ctx: AppContext<{ page?: number; pageSize?: number }>) {
          return this.queryList(ctx as AppContext, {
            query: { userId: ctx.meta.user!.sub },
            page: ctx.params.page ?? 1,
            pageSize: ctx.params.pageSize ?? 20,
            sort: "-createdAt",
          });
        },
      },
      refund: {
        auth: ["organizer", "admin"],
        params: {
          id: { type: "string", max: 64 },
          ticketIds: { type: "array", optional: true, min: 1, max: 100, items: "string" },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<{ id: string; ticketIds?: string[] }>) {
          const refundId = newId(ctx, "refund");
          const { state: order } = await run(
            this,
            ctx,
            ctx.params.id,
            { type: "RefundTickets", id: ctx.params.id, refundId, ticketIds: ctx.params.ticketIds },
            "refund",
          );
          ctx.meta.$statusCode = 202;
          // The money goes back and the tickets go on sale again in the background (sales.refunds).
          return { refundId, status: "accepted", order: view(order!) };
        },
      },
      /**
       * A partner's order, from the Kafka bridge (not routed by the gateway). Validated by the
       * decider before its barcodes are claimed, so a refused order claims none.
       */
      importOrder: {
        visibility: "public",
        params: { id: "string", source: "object", status: "string", eventId: "string", customer: "object", tickets: "array" },
        async handler(this: Self, ctx: AppContext<Omit<ImportOrder, "type" | "actor" | "at" | "event">>) {
          const { id, eventId } = ctx.params;
          const current = await load(id);
          const event = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(eventId));
          const command: ImportOrder = {
            ...ctx.params,
            type: "ImportOrder",
            event: event && {
              id: event.id,
              organizerId: event.organizerId,
              source: event.source,
              ticketSets: (event.ticketSets ?? []).map((t) => ({ id: t.id, name: t.name })),
            },
            actor: ctx.meta.user ?? SYSTEM,
            at: Date.now(),
          };
          let imports: boolean;
          try {
            imports = orderDecider.decide(command, current).some((e) => e.type === "OrderImported");
          } catch (err) {
            throw toMoleculerError(err);
          }
          if (imports) {
            for (const ticket of command.tickets) {
              const claim: ClaimBarcode = { type: "ClaimBarcode", barcode: ticket.barcode, ticketId: ticket.id, orderId: id };
              await this.execute(ctx, barcodeDecider, barcodeStream(ticket.barcode), claim, "claim");
            }
          }
          const result = await this.execute(ctx, orderDecider, orderStream(id), command, "import");
          return { id, changed: !!result.commit && !result.duplicate, version: result.seq };
        },
      },
      /** A refund the partner approved, from the Kafka bridge: no money moves here, the tickets become refunded. */
      importRefund: {
        visibility: "public",
        params: { id: "string", refundId: "string", source: "object", ticketIds: "array" },
        async handler(this: Self, ctx: AppContext<Omit<ImportRefund, "type" | "actor" | "at">>) {
          const command: ImportRefund = { ...ctx.params, type: "ImportRefund", actor: ctx.meta.user ?? SYSTEM, at: Date.now() };
          const result = await this.execute(
            ctx,
            orderDecider,
            orderStream(ctx.params.id),
            command,
            `import-refund:${ctx.params.refundId}`,
          );
          return { id: ctx.params.id, changed: !!result.commit && !result.duplicate, version: result.seq };
        },
      },
      cancel: {
        auth: "user",
        params: { id: { type: "string", max: 64 }, $$strict: true },
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const before = await load(ctx.params.id);
          if (!before) throw notFound("order", ctx.params.id);
          const { state: cancelled } = await run(
            this,
            ctx,
            ctx.params.id,
            { type: "CancelOrder", id: ctx.params.id, reason: "customer" },
            "cancel",
          );
          await releaseIfClosed(this.broker, cancelled, "cancelled");
          if (before.payment)
            await rt.payments.cancelPayment(before.payment.id, { idempotenceKey: `cancel-${before.id}` }).catch(() => undefined);
          return view(cancelled!);
        },
      },
      /** YooKassa notifications: trusted only by source address, and even then only as a hint to look the payment up. */
      yookassaWebhook: {
        params: { $$strict: false },
        async handler(
          this: Self,
          ctx: AppContext<Record<string, unknown>> & { meta: { clientIp?: string; forwardedFor?: string } },
        ) {
          const { source, allowed } = webhookSource(ctx.meta.clientIp, ctx.meta.forwardedFor);
          if (!allowed) {
            this.logger.warn(`payment webhook refused from ${source ?? "an unknown address"}`);
            throw new Errors.MoleculerClientError(
              "notifications are accepted from the payment provider only",
              403,
              "FORBIDDEN_SOURCE",
            );
          }
          let paymentId: string;
          let event: string;
          try {
            const notification = parseNotification(ctx.params);
            paymentId = notification.object.id;
            event = notification.event;
          } catch (err) {
            throw new Errors.MoleculerClientError(
              `not a YooKassa notification: ${(err as Error).message}`,
              400,
              "BAD_NOTIFICATION",
            );
          }
          // Repeated deliveries of the same notification are recorded once.
          const record: CommandContext = {
            meta: { user: SYSTEM, commandId: `yookassa:${event}:${paymentId}` },
            requestID: ctx.requestID,
          };
          await this.execute(record, notifications, `payment-${paymentId}`, { paymentId, event }, "notified");
          return { ok: true };
        },
      },
    },
    started(this: Service) {
      const svc = this as Self;
      sweeper = setInterval(
        () => void expireDue(svc, run).catch((err) => svc.logger.warn("order expiry sweep failed:", String(err))),
        SWEEP_MS,
      );
      sweeper.unref();
    },
    stopped() {
      if (sweeper) clearInterval(sweeper);
    },
  };
}

type Run = (
  svc: Self,
  ctx: CommandContext,
  id: string,
  command: DistributiveOmit<OrderCommand, "actor" | "at">,
  name: string,
) => Promise<CommandResult<OrderState>>;

function loadOrder(rt: Runtime, id: string): Promise<OrderState> {
  return loadAggregate(rt.store.log(SALES_LOG), orderDecider, orderStream(id));
}

/** Whose tickets the inventory counts against the per-customer limit. */
function customerKey(userId: string): string {
  return `user:${userId}`;
}

/** inventory.confirm for an order: its hold becomes sold tickets, the same lines and seats. */
function confirmation(order: Order) {
  return {
    eventId: order.eventId,
    holdId: order.id,
    orderId: order.id,
    customerKey: customerKey(order.userId),
    lines: order.lines.map(({ categoryId, quantity, seats }) => ({ categoryId, quantity, ...(seats ? { seats } : {}) })),
  };
}

function view(order: Order): Partial<Order> {
  const { refundIds: _r, userId: _u, ...rest } = order;
  return rest;
}

/** Tickets with barcodes nobody can guess: 128 random bits, unrelated to any id. */
function issueTickets(order: Order): Omit<Ticket, "status">[] {
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

/**
 * Acts on what the provider says about a payment (fetched, never taken from the webhook):
 * authorised → confirm the tickets, issue them, then capture; otherwise cancel the
 * authorisation so the buyer is never charged for tickets they did not get.
 */
async function settlePayment(rt: Runtime, svc: Self, recorded: RecordedEvent, run: Run): Promise<void> {
  const { paymentId } = recorded.data as { paymentId: string };
  let payment: Payment;
  try {
    payment = await rt.payments.getPayment(paymentId);
  } catch (err) {
    if (err instanceof YookassaError && err.code === "YOOKASSA_NOT_FOUND") {
      svc.logger.warn(`payment ${paymentId}: the provider does not know it; notification ignored`);
      return;
    }
    throw err;
  }
  const ctx = systemContext(recorded);
  const cancelAuthorisation = () => rt.payments.cancelPayment(payment.id, { idempotenceKey: `cancel-${payment.id}` });
  const orderId = payment.metadata?.orderId;
  const order = orderId ? await loadOrder(rt, orderId) : null;
  if (!order || order.payment?.id !== payment.id) {
    svc.logger.warn(`payment ${payment.id} belongs to no order of ours`);
    if (payment.status === "waiting_for_capture") await cancelAuthorisation();
    return;
  }
  if (payment.status === "canceled") {
    if (order.status === "awaiting_payment") {
      const { state } = await run(
        svc,
        ctx,
        order.id,
        { type: "CancelOrder", id: order.id, reason: "payment_failed" },
        "payment-canceled",
      );
      await releaseIfClosed(svc.broker, state, "payment_failed");
    }
    return;
  }
  if (payment.status !== "waiting_for_capture") return;
  if (order.status === "paid") {
    await rt.payments.capturePayment(payment.id, { idempotenceKey: `capture-${order.id}` });
    return;
  }
  if (order.status !== "awaiting_payment") {
    await cancelAuthorisation();
    return;
  }
  if (amountToMinor(payment.amount) !== order.amount || payment.amount.currency !== order.currency) {
    svc.logger.error(
      `payment ${payment.id}: amount ${payment.amount.value} ${payment.amount.currency} does not match order ${order.id}; cancelled`,
    );
    await cancelAuthorisation();
    return;
  }
  try {
    await svc.broker.call("inventory.confirm", confirmation(order), { meta: { user: SYSTEM } });
  } catch (err) {
    if ((err as { type?: string }).type !== "HOLD_LOST") throw err;
    await cancelAuthorisation();
    await run(svc, ctx, order.id, { type: "CancelOrder", id: order.id, reason: "hold_lost" }, "hold-lost").catch((e) => {
      if (!(e instanceof DomainError) && (e as { type?: string }).type !== "ORDER_PAID") throw e;
    });
    return;
  }
  try {
    await run(
      svc,
      ctx,
      order.id,
      {
        type: "IssueTickets",
        id: order.id,
        paymentId: payment.id,
        paidAmount: amountToMinor(payment.amount),
        paidCurrency: payment.amount.currency,
        tickets: issueTickets(order),
      },
      "issue",
    );
  } catch (err) {
    if ((err as { type?: string }).type !== "ORDER_CLOSED") throw err;
    // It expired or was cancelled after the confirm: sales.stock-release gives that sale back.
    await cancelAuthorisation();
    return;
  }
  await rt.payments.capturePayment(payment.id, { idempotenceKey: `capture-${order.id}` });
}

/**
 * A refund recorded on an order: return the money (the idempotence key is the refund id, so
 * a retry never refunds twice). The tickets go back on sale in sales.stock-release.
 */
async function settleRefund(rt: Runtime, recorded: RecordedEvent): Promise<void> {
  const data = recorded.data as Extract<OrderEvent, { type: "TicketsRefunded" }>["data"];
  // Free tickets (no payment) have no money to return.
  if (data.amount > 0 && data.paymentId) {
    await rt.payments.createRefund({
      paymentId: data.paymentId,
      amountMinor: data.amount,
      currency: data.currency,
      idempotenceKey: `refund-${data.refundId}`,
      description: `Refund of order ${data.id}`,
    });
  }
}

/**
 * An event was cancelled: every paid order is refunded in full, every unpaid one cancelled.
 * The refund id is short and derived from the cancellation and the order, so the provider's
 * idempotence key stays within its 64 characters and a replay refunds nothing twice.
 */
async function refundCancelledEvent(svc: Self, recorded: RecordedEvent, run: Run): Promise<void> {
  const eventId = (recorded.data as { id: string }).id;
  const orders = await svc
    .liveDocs<OrderDoc>()
    .find({ eventId, status: { $in: ["paid", "partially_refunded", "awaiting_payment"] } });
  for (const order of orders) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `${recorded.id}:${order.id}` }, requestID: null };
    if (order.status === "awaiting_payment") {
      const { state } = await run(svc, ctx, order.id, { type: "CancelOrder", id: order.id, reason: "event_cancelled" }, "cancel");
      await releaseIfClosed(svc.broker, state, "event_cancelled");
    } else {
      await run(
        svc,
        ctx,
        order.id,
        {
          type: "RefundTickets",
          id: order.id,
          refundId: `cx-${createHash("sha256").update(`${recorded.id}:${order.id}`).digest("hex").slice(0, 32)}`,
        },
        "refund",
      ).catch((err: { type?: string }) => {
        if (err.type !== "NOT_REFUNDABLE") throw err;
      });
    }
  }
}

/**
 * Orders past their deadline: expire them and give the tickets back (sales.stock-release does
 * it too, so a crash in between loses nothing). Expiry is final: a payment that settles after
 * it is cancelled by settlePayment.
 */
async function expireDue(svc: Self, run: Run): Promise<void> {
  const due = await svc
    .liveDocs<OrderDoc>()
    .find({ status: "awaiting_payment", expiresAt: { $lte: Date.now() } }, { limit: 200 });
  for (const order of due) {
    const ctx: CommandContext = { meta: { user: SYSTEM, commandId: `expire-${order.id}` }, requestID: null };
    const { state } = await run(svc, ctx, order.id, { type: "ExpireOrder", id: order.id }, "expire");
    // A no-op when it was paid meanwhile (the read model lags): then nothing is given back.
    await releaseIfClosed(svc.broker, state, "expired");
  }
}

function blockList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const type = isIPv6(address) ? "ipv6" : "ipv4";
    if (prefix) list.addSubnet(address, Number(prefix), type);
    else list.addAddress(address, type);
  }
  return list;
}

function allowed(list: BlockList, address: string): boolean {
  const plain = address.replace(/^::ffff:/, "");
  return list.check(plain, isIPv6(plain) ? "ipv6" : "ipv4");
}

/**
 * Whether a request comes from an allowed source. The source is the socket's peer or, when
 * that peer is one of our proxies, the nearest address in X-Forwarded-For that is not a proxy
 * of ours: a client cannot forge it by sending the header itself.
 */
export function sourceCheck(allowlist: string[], trustedProxies: string[]) {
  const allowedSources = blockList(allowlist);
  const proxies = blockList(trustedProxies);
  return (peer: string | undefined, forwardedFor: string | undefined): { source: string | undefined; allowed: boolean } => {
    const source = clientAddress(peer, forwardedFor, proxies);
    return { source, allowed: !!source && allowed(allowedSources, source) };
  };
}

function clientAddress(peer: string | undefined, forwardedFor: string | undefined, proxies: BlockList): string | undefined {
  if (!peer || !allowed(proxies, peer) || !forwardedFor) return peer?.replace(/^::ffff:/, "");
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!allowed(proxies, hops[i])) return hops[i];
  return hops[0];
}
