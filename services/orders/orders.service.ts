import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { created, newId } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import { notFound } from "../../lib/app/errors";
import { periodic, type Periodic } from "../../lib/app/periodic";
import type { Runtime } from "../../lib/app/runtime";
import { sourceCheck } from "../../lib/http/client-address";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { EventSourced, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ownDocsAction, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { SALES_LOG } from "../inventory/inventory.types";
import { expireDue } from "./expiry";
import { importOrder, importRefund, type ImportOrderParams, type ImportRefundParams } from "./imports";
import { loadOrder, runOrderCommand, view, type OrdersService as Self } from "./order-commands";
import { isOrderParty } from "./orders.decider";
import { ordersProjection } from "./orders.projection";
import { paymentOfClosedOrder, reconcilePayments, settlePayment } from "./payments";
import { buyerContact } from "./buyer";
import { attachPayment, issueFree, placeOrder, type CreateParams } from "./placing";
import { eventAggregates } from "../events/event-aggregates";
import { reconcileRefunds, refundCancelledEvent, settleRefund, settleRefundNotice } from "./refunds";
import { SalesMetrics } from "./sales-metrics";
import { releaseIfClosed, StockRelease } from "./stock-release";
import { receiveNotification } from "./webhook";

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
  "refunds",
  "createdAt",
  "updatedAt",
];
const SWEEP_MS = 2000;

/**
 * Orders: the actions and their wiring. Placing (placing.ts), settling payments (payments.ts),
 * refunds (refunds.ts), partner imports (imports.ts) and expiry (expiry.ts) live beside it.
 */
export default function ordersService(rt: Runtime): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  const load = (id: string) => loadOrder(rt, id);
  const events = eventAggregates(rt);
  const webhookSource = sourceCheck(rt.config.payments.webhookAllowlist, rt.config.payments.trustedProxies);
  let sweeper: Periodic | null = null;
  let reconciler: Periodic | null = null;

  return {
    name: "orders",
    mixins: [
      EventSourced(rt, SALES_LOG),
      ReadModel(rt, { projection: ordersProjection, fields: ORDER_FIELDS, sortable: ["createdAt"] }),
      StockRelease(rt),
      // A runner of its own only when someone scrapes its figures.
      ...(rt.config.metrics ? [SalesMetrics(rt)] : []),
      Subscription<Self>(rt, {
        name: "sales.refunds",
        log: SALES_LOG,
        types: ["TicketsRefunded"],
        // The order's stream: its refunds go out in order, other orders' side by side.
        partitionBy: byStream,
        concurrency: 16,
        async handle(event) {
          await settleRefund(rt, this, event);
        },
      }),
      Subscription<Self>(rt, {
        name: "sales.event-cancellations",
        log: CATALOGUE_LOG,
        types: ["EventCancelled"],
        partitionBy: byStream,
        async handle(event) {
          await refundCancelledEvent(rt, this, event);
        },
      }),
      Subscription<Self>(rt, {
        name: "sales.payments",
        log: SALES_LOG,
        types: ["PaymentNotified", "RefundNotified"],
        // Payments of different orders are independent: settle them side by side (a refund goes with its payment).
        partitionBy: (event) => (event.data as { paymentId: string }).paymentId,
        concurrency: 32,
        async handle(event) {
          if (event.type === "RefundNotified") await settleRefundNotice(rt, this, event);
          else await settlePayment(rt, this, event);
        },
      }),
    ],
    actions: {
      list: { visibility: "public" },
      /** How many orders a user placed (the admins' view of a user). */
      countForUser: {
        visibility: "public",
        params: { userId: { type: "string", min: 1, max: 200 } },
        handler(this: Self, ctx: AppContext<{ userId: string }>) {
          return this.liveDocs().count({ userId: ctx.params.userId });
        },
      },
      create: {
        auth: "user",
        errors: {
          VALIDATION: 400,
          USER_BLOCKED: 403,
          ADMISSION_REQUIRED: 403,
          ADMISSION_INVALID: 403,
          NOT_ON_SALE: 404,
          NOT_FOUND: 404,
          SALES_CLOSED: 409,
          SOLD_OUT: 409,
          SEAT_TAKEN: 409,
          ORDER_CLOSED: 409,
          LIMIT_PER_ORDER: 422,
          LIMIT_PER_CUSTOMER: 422,
          CONTACT_MISSING: 422,
          BUSY: 503,
          HOLD_EXPIRED: 503,
          PAYMENT_UNAVAILABLE: 503,
        },
        successStatus: 201,
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
            optional: true,
            props: {
              email: { type: "email" },
              phone: { type: "string", max: 20 },
              firstName: { type: "string", max: 100, optional: true },
              lastName: { type: "string", max: 100, optional: true },
            },
          },
          // The waiting room's admission (GET /api/events/:id/queue), for an event that has one.
          admissionToken: { type: "string", max: 200, optional: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<CreateParams>) {
          const id = newId(ctx, "order");
          const customer = await buyerContact(ctx as unknown as AppContext, ctx.params.customer);
          // A retry of this request (same Idempotency-Key, or Moleculer after a timeout) finds the
          // order and finishes what the first attempt may not have: the payment.
          let order = (await load(id)) ?? (await placeOrder(rt, this, events, ctx, id, customer));
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
                : await attachPayment(rt, this, ctx as unknown as AppContext, order);
          return created(ctx as unknown as AppContext, `/api/orders/${id}`, view(order));
        },
      },
      get: {
        auth: "user",
        errors: { NOT_FOUND: 404 },
        params: { id: { type: "string", max: 64 }, $$strict: "remove" },
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const order = await load(ctx.params.id);
          const user = ctx.meta.user!;
          // Someone else's order does not exist, as far as this caller can tell.
          if (!order || !isOrderParty(user, order)) throw notFound("order", ctx.params.id);
          return view(order);
        },
      },
      mine: ownDocsAction("-createdAt"),
      refund: {
        auth: ["organizer", "admin"],
        errors: { VALIDATION: 400, FORBIDDEN: 403, NOT_FOUND: 404, NOT_REFUNDABLE: 409, TICKET_NOT_ACTIVE: 409 },
        successStatus: 202,
        params: {
          id: { type: "string", max: 64 },
          ticketIds: { type: "array", optional: true, min: 1, max: 100, items: "string" },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<{ id: string; ticketIds?: string[] }>) {
          const refundId = newId(ctx, "refund");
          const { state: order } = await runOrderCommand(
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
      /** A partner's order, from the Kafka bridge (not routed by the gateway). */
      importOrder: {
        visibility: "public",
        params: { id: "string", source: "object", status: "string", eventId: "string", customer: "object", tickets: "array" },
        handler(this: Self, ctx: AppContext<ImportOrderParams>) {
          return importOrder(rt, this, ctx);
        },
      },
      /** A refund the partner approved, from the Kafka bridge. */
      importRefund: {
        visibility: "public",
        params: { id: "string", refundId: "string", source: "object", ticketIds: "array" },
        handler(this: Self, ctx: AppContext<ImportRefundParams>) {
          return importRefund(this, ctx);
        },
      },
      cancel: {
        auth: "user",
        errors: { NOT_FOUND: 404, ORDER_PAID: 409, ORDER_CLOSED: 409 },
        params: { id: { type: "string", max: 64 }, $$strict: true },
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const before = await load(ctx.params.id);
          if (!before) throw notFound("order", ctx.params.id);
          const { state: cancelled } = await runOrderCommand(
            this,
            ctx,
            ctx.params.id,
            { type: "CancelOrder", id: ctx.params.id, reason: "customer" },
            "cancel",
          );
          // A fast path: sales.stock-release gives the stock back too, so a crash here loses nothing.
          await releaseIfClosed(this.broker, cancelled, "cancelled");
          // The payment is cancelled (or, if the buyer paid meanwhile, its authorisation released) in sales.payments.
          if (cancelled!.status === "cancelled") await paymentOfClosedOrder(this, cancelled!);
          return view(cancelled!);
        },
      },
      /** YooKassa notifications: trusted only by source address, and even then only as a hint to look the payment up. */
      yookassaWebhook: {
        errors: { BAD_NOTIFICATION: 400, FORBIDDEN_SOURCE: 403, PAYMENT_UNAVAILABLE: 503 },
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
          return receiveNotification(rt, this, ctx.params, ctx.requestID);
        },
      },
    },
    started(this: Service) {
      const svc = this as Self;
      sweeper = periodic(
        SWEEP_MS,
        () => expireDue(rt, svc),
        (err) => svc.logger.warn("order expiry sweep failed:", String(err)),
      );
      // A pass over many payments may take longer than the interval: periodic runs one at a time.
      reconciler = periodic(
        Math.max(rt.config.payments.reconcileAfterMs, 1000),
        () => Promise.all([reconcilePayments(rt, svc), reconcileRefunds(rt, svc)]).then(() => undefined),
        (err) => svc.logger.warn("payment reconciliation failed:", String(err)),
      );
      sweeper.start();
      reconciler.start();
    },
    // The sweeps under way finish (their commands decided and written) before the store closes.
    async stopped() {
      await Promise.all([sweeper?.stop(), reconciler?.stop()]);
    },
  };
}
