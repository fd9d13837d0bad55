import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import { notFound } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import { admitsAtDoor } from "../../lib/auth/principal";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import { APPENDED_EVENT, EventSourced, type AppendedPayload, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { ownDocsAction, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { eventDecider } from "../events/events.decider";
import { eventStream } from "../events/events.types";
import { SALES_LOG } from "../inventory/inventory.types";
import { isOrderParty, orderDecider } from "../orders/orders.decider";
import { orderStream, type CheckInTicket } from "../orders/orders.types";
import { startNotificationFeed, stopNotificationFeed, type NotificationFeed } from "./notification-feed";
import { ticketsProjection, type TicketDoc } from "./tickets.projection";

type Self = Service & EventSourcedMethods & ReadModelMethods;

const TICKET_FIELDS = [
  "id",
  "barcode",
  "series",
  "number",
  "orderId",
  "eventId",
  "categoryId",
  "categoryName",
  "row",
  "seat",
  "price",
  "currency",
  "status",
  "usedAt",
  "holder",
  "issuedAt",
];
/**
 * Tickets: the holder's list, an order's tickets, and the door (check-in by barcode); with
 * Kafka, also the feed of the notification triggers (notification-feed.ts).
 */
export default function ticketsService(rt: Runtime): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  let feed: NotificationFeed | null = null;
  return {
    name: "tickets",
    mixins: [
      EventSourced(rt, SALES_LOG),
      ReadModel(rt, { projection: ticketsProjection, fields: TICKET_FIELDS, sortable: ["issuedAt"] }),
    ],
    actions: {
      list: { visibility: "public" },
      get: { visibility: "public" },
      /** How many tickets a user holds, whatever their status (the admins' view of a user). */
      countForUser: {
        visibility: "public",
        params: { userId: { type: "string", min: 1, max: 200 } },
        handler(this: Self, ctx: AppContext<{ userId: string }>) {
          return this.liveDocs().count({ userId: ctx.params.userId });
        },
      },
      mine: ownDocsAction("-issuedAt"),
      ofOrder: {
        auth: "user",
        errors: { NOT_FOUND: 404 },
        params: { id: { type: "string", max: 64 }, $$strict: "remove" },
        async handler(this: Self, ctx: AppContext<{ id: string }>) {
          const order = await loadAggregate(rt.store.log(SALES_LOG), orderDecider, orderStream(ctx.params.id));
          const user = ctx.meta.user!;
          if (!order || !isOrderParty(user, order)) throw notFound("order", ctx.params.id);
          // The one envelope of every list, though an order's tickets always fit on one page.
          const total = order.tickets.length;
          return { rows: order.tickets, total, page: 1, pageSize: total, totalPages: total > 0 ? 1 : 0 };
        },
      },
      checkin: {
        auth: ["checker", "admin"],
        errors: { FORBIDDEN: 403, TICKET_NOT_FOUND: 404, EVENT_CANCELLED: 409, TICKET_ALREADY_USED: 409, TICKET_NOT_VALID: 409 },
        params: {
          barcode: {
            type: "string",
            // Ours are 32 hexadecimal characters; tickets imported from a partner carry the partner's barcodes.
            pattern: "^[0-9A-Za-z]{4,64}$",
            messages: { stringPattern: "'barcode' must be a ticket barcode (4 to 64 letters and digits)" },
          },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<{ barcode: string }>) {
          const [ticket] = await this.liveDocs<TicketDoc>().find({ barcode: ctx.params.barcode.toUpperCase() }, { limit: 1 });
          const user = ctx.meta.user!;
          // Outside the checker's scope a ticket is answered like an unknown barcode: the door
          // learns nothing about other organizers' tickets.
          if (!ticket || !admitsAtDoor(user, ticket)) {
            throw new Errors.MoleculerClientError("unknown ticket", 404, "TICKET_NOT_FOUND");
          }
          // The log, not a read model that may lag: a cancellation is refused at the door at once.
          const event = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(ticket.eventId));
          const command: CheckInTicket = {
            type: "CheckInTicket",
            id: ticket.orderId,
            ticketId: ticket.id,
            eventStatus: event?.status,
            actor: user,
            at: Date.now(),
          };
          await this.execute(ctx, orderDecider, orderStream(ticket.orderId), command, `checkin:${ticket.id}`);
          const order = (await loadAggregate(rt.store.log(SALES_LOG), orderDecider, orderStream(ticket.orderId)))!;
          const admitted = order.tickets.find((t) => t.id === ticket.id)!;
          return {
            ticketId: admitted.id,
            status: admitted.status,
            usedAt: admitted.usedAt,
            eventId: ticket.eventId,
            category: admitted.categoryName,
            row: admitted.row,
            seat: admitted.seat,
          };
        },
      },
    },
    events: {
      // Appends on other nodes (the orders service's); the mixins' handlers of this event run too.
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          feed?.wake(ctx.params.log);
        },
      },
    },
    async started(this: Self) {
      feed = await startNotificationFeed(rt, this.logger);
    },
    async stopped() {
      if (feed) await stopNotificationFeed(rt, feed);
      feed = null;
    },
  };
}
