import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { SYSTEM, type AppContext } from "../../lib/app/context";
import { toMoleculerError } from "../../lib/app/errors";
import { periodic, type Periodic } from "../../lib/app/periodic";
import type { Runtime } from "../../lib/app/runtime";
import type { DistributiveOmit } from "../../lib/domain/objects";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import { BusyError, evictIdle, Mailbox } from "../../lib/eventlog/mailbox";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { announcerOf } from "../../lib/app/log-announcer";
import { ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { eventDecider } from "../events/events.decider";
import { eventStream } from "../events/events.types";
import { availability, holdLapsed, inventoryDecider } from "./inventory.decider";
import { PaceMeter, type Pace } from "./pace";
import { eventStockId, salesCounters, stockProjection, type EventStockDoc, type HoldDoc } from "./inventory.projection";
import {
  SALES_LOG,
  inventoryStream,
  type HoldLine,
  type InventoryCommand,
  type InventoryEvent,
  type InventoryState,
  type ReleaseReason,
  type Request,
  type SyncedCategory,
} from "./inventory.types";

/** An event nobody bought for this long leaves memory; its next command reloads it from the log. */
const MAILBOX_IDLE_MS = 10 * 60_000;

type InventoryMailbox = Mailbox<InventoryCommand, InventoryEvent, InventoryState>;
type Command = DistributiveOmit<InventoryCommand, "actor" | "at">;

/** Every command of one event goes to the node that owns its mailbox. */
const SHARDED = { strategy: "Shard", strategyOptions: { shardKey: "eventId" }, visibility: "public" as const };
const SWEEP_MS = 1000;

const line = {
  type: "object",
  strict: true,
  props: {
    categoryId: "string",
    quantity: { type: "number", integer: true, positive: true },
    seats: { type: "array", items: "string", optional: true },
  },
};

/** Sales figures of one category or of a whole event; money in minor units. */
export interface SalesFigures {
  capacity: number;
  held: number;
  sold: number;
  available: number;
  /** Prices of the tickets issued minus those refunded: what the event earned. */
  revenue: number;
  /** Prices of the tickets refunded: what was given back. */
  refunded: number;
}

export interface CategorySales extends SalesFigures {
  id: string;
  name: string;
  kind: "ga" | "seated";
  price: number;
  currency: string;
}

export interface EventSales {
  eventId: string;
  open: boolean;
  currency: string | null;
  categories: CategorySales[];
  totals: SalesFigures;
}

/** Per ticket category: what is still for sale, for the event page. */
export type Availability = Record<string, { available: number; capacity: number }>;

export interface HoldResult {
  holdId: string;
  eventId: string;
  lines: HoldLine[];
  expiresAt: number;
}

/**
 * What can be sold for each event, with holds that expire. Commands of one event are decided
 * on one node, in memory, in group commits (the flash-sale path): see lib/eventlog/mailbox.ts.
 */
export default function inventoryService(rt: Runtime): ServiceSchema<ServiceSettingSchema, ReadModelMethods> {
  const mailboxes = new Map<string, InventoryMailbox>();
  const paces = new Map<string, PaceMeter>();
  const paceOf = (eventId: string) => paces.get(eventId) ?? paces.set(eventId, new PaceMeter()).get(eventId)!;
  let sweeper: Periodic | null = null;
  let announced = 0;

  const mailbox = (eventId: string): InventoryMailbox => {
    let box = mailboxes.get(eventId);
    if (!box) mailboxes.set(eventId, (box = new Mailbox(rt.store.log(SALES_LOG), inventoryDecider, inventoryStream(eventId))));
    return box;
  };

  async function submit(svc: Service, ctx: AppContext, eventId: string, command: Command): Promise<InventoryEvent[]> {
    try {
      const full = { ...command, actor: ctx.meta.user ?? SYSTEM, at: Date.now() } as InventoryCommand;
      const { events, commit } = await mailbox(eventId).submit(full, {
        actor: ctx.meta.user?.sub ?? "system",
        correlationId: ctx.requestID ?? undefined,
      });
      // One wake-up per commit, however many callers shared it.
      if (commit && commit.pos > announced) {
        announced = commit.pos;
        announcerOf(svc.broker, rt.runners).appended(SALES_LOG, commit.pos);
      }
      return events;
    } catch (err) {
      if (err instanceof BusyError) {
        rt.metrics.busy();
        throw new Errors.MoleculerRetryableError("tickets for this event are in high demand: retry in a moment", 503, "BUSY", {
          retryAfterSec: 1,
        });
      }
      throw toMoleculerError(err);
    }
  }

  return {
    name: "inventory",
    mixins: [
      ReadModel(rt, { projection: stockProjection, fields: ["eventId", "open", "categories", "updatedAt"], sortable: [] }),
      Subscription(rt, {
        name: "sales.catalogue-sync",
        log: CATALOGUE_LOG,
        types: [
          "TicketCategoryAdded",
          "TicketCategoryUpdated",
          "TicketCategoryRemoved",
          "EventPublished",
          "EventPaused",
          "EventCancelled",
          "EventFinished",
        ],
        // One event's stock follows its own catalogue changes in order; events are independent.
        partitionBy: byStream,
        async handle(this: Service, event: RecordedEvent) {
          await syncFromCatalogue(rt, this, event);
        },
      }),
    ],
    actions: {
      // The read model is internal: clients see availability on the event page.
      list: { visibility: "public" },
      get: { visibility: "public" },
      hold: {
        ...SHARDED,
        params: {
          eventId: "string",
          holdId: "string",
          orderId: "string",
          customerKey: "string",
          requests: { type: "array", min: 1, max: 100, items: "object" },
          expiresAt: { type: "number", integer: true, positive: true },
        },
        async handler(
          this: Service,
          ctx: AppContext<{
            eventId: string;
            holdId: string;
            orderId: string;
            customerKey: string;
            requests: Request[];
            expiresAt: number;
          }>,
        ): Promise<HoldResult> {
          const { eventId, ...rest } = ctx.params;
          const started = performance.now();
          let placed = false;
          try {
            placed = (await submit(this, ctx, eventId, { type: "PlaceHold", ...rest })).length > 0;
          } finally {
            paceOf(eventId).record(Date.now(), performance.now() - started, placed);
          }
          // A repeated hold produces no event: answer from the state either way.
          const state = await mailbox(eventId).current();
          const hold = state.holds.get(ctx.params.holdId);
          const sale = state.sales.get(ctx.params.holdId);
          if (!hold && !sale) throw toMoleculerError(holdLapsed());
          return {
            holdId: ctx.params.holdId,
            eventId,
            lines: hold?.lines ?? sale!.lines,
            expiresAt: hold?.expiresAt ?? ctx.params.expiresAt,
          };
        },
      },
      release: {
        ...SHARDED,
        params: {
          eventId: "string",
          holdId: "string",
          reason: { type: "enum", values: ["cancelled", "payment_failed", "expired"] },
        },
        async handler(
          this: Service,
          ctx: AppContext<{ eventId: string; holdId: string; reason: "cancelled" | "payment_failed" | "expired" }>,
        ) {
          const events = await submit(this, ctx, ctx.params.eventId, {
            type: "ReleaseHold",
            holdId: ctx.params.holdId,
            reason: ctx.params.reason,
          });
          return { released: events.length > 0 };
        },
      },
      /**
       * An order closed without tickets: give back everything it has here, once, and refuse it
       * anything later. Idempotent; the sales.stock-release subscription calls it for every
       * closed order, request handlers may call it first to free the tickets sooner.
       */
      releaseOrder: {
        ...SHARDED,
        params: {
          eventId: "string",
          orderId: "string",
          reason: { type: "enum", values: ["cancelled", "payment_failed", "expired", "hold_lost", "event_cancelled"] },
        },
        async handler(this: Service, ctx: AppContext<{ eventId: string; orderId: string; reason: ReleaseReason }>) {
          const { eventId, orderId, reason } = ctx.params;
          // An order's hold and sale are kept under its own id (see orders' placeOrder).
          const events = await submit(this, ctx, eventId, { type: "ReleaseOrder", orderId, holdId: orderId, reason });
          return { released: events.length > 0 };
        },
      },
      confirm: {
        ...SHARDED,
        params: {
          eventId: "string",
          holdId: "string",
          orderId: "string",
          customerKey: "string",
          lines: { type: "array", items: line },
        },
        async handler(
          this: Service,
          ctx: AppContext<{ eventId: string; holdId: string; orderId: string; customerKey: string; lines: HoldLine[] }>,
        ) {
          const { eventId, ...rest } = ctx.params;
          await submit(this, ctx, eventId, { type: "ConfirmHold", ...rest });
          return { sold: true, holdId: ctx.params.holdId };
        },
      },
      returnTickets: {
        ...SHARDED,
        params: { eventId: "string", saleId: "string", returnId: "string", lines: { type: "array", min: 1, items: line } },
        async handler(this: Service, ctx: AppContext<{ eventId: string; saleId: string; returnId: string; lines: HoldLine[] }>) {
          const { eventId, ...rest } = ctx.params;
          await submit(this, ctx, eventId, { type: "ReturnTickets", ...rest });
          return { returned: true };
        },
      },
      expire: {
        ...SHARDED,
        params: { eventId: "string" },
        async handler(this: Service, ctx: AppContext<{ eventId: string }>) {
          return { released: (await submit(this, ctx, ctx.params.eventId, { type: "ExpireHolds" })).length };
        },
      },
      sync: {
        ...SHARDED,
        params: { eventId: "string", open: "boolean", categories: { type: "array", items: "object" } },
        async handler(this: Service, ctx: AppContext<{ eventId: string; open: boolean; categories: SyncedCategory[] }>) {
          await submit(this, ctx, ctx.params.eventId, { type: "SyncInventory", ...ctx.params });
          return { synced: true };
        },
      },
      /** Tickets sold per category, from the write side: the catalogue locks prices with it. */
      soldCounts: {
        ...SHARDED,
        params: { eventId: "string" },
        async handler(ctx: AppContext<{ eventId: string }>) {
          const state = await mailbox(ctx.params.eventId).current();
          return Object.fromEntries(availability(state).map((a) => [a.categoryId, a.sold]));
        },
      },
      /** What is left and how fast holds go, from the write side: the waiting room's admissions follow it. */
      pace: {
        ...SHARDED,
        params: { eventId: "string" },
        async handler(ctx: AppContext<{ eventId: string }>): Promise<Pace> {
          const state = await mailbox(ctx.params.eventId).current();
          const totals = { available: 0, held: 0, sold: 0 };
          for (const c of availability(state)) {
            totals.available += Math.max(0, c.available);
            totals.held += c.held;
            totals.sold += c.sold;
          }
          return { ...totals, ...paceOf(ctx.params.eventId).snapshot(Date.now()) };
        },
      },
      /** Availability for the event page, from the read model: per category, what is still for sale. */
      availability: {
        visibility: "public",
        params: { eventId: "string" },
        async handler(this: Service & ReadModelMethods, ctx: AppContext<{ eventId: string }>): Promise<Availability | null> {
          const doc = await this.liveDocs<EventStockDoc>().get(eventStockId(ctx.params.eventId));
          if (!doc) return null;
          return Object.fromEntries(
            Object.entries(doc.categories).map(([id, c]) => [id, { available: c.available, capacity: c.capacity }]),
          );
        },
      },
      /** Sales per category for the organizer, from the read model; who may see them is the caller's check. */
      sales: {
        visibility: "public",
        params: { eventId: "string" },
        async handler(this: Service & ReadModelMethods, ctx: AppContext<{ eventId: string }>): Promise<EventSales | null> {
          const doc = await this.liveDocs<EventStockDoc>().get(eventStockId(ctx.params.eventId));
          return doc ? salesOf(doc) : null;
        },
      },
    },
    started(this: Service) {
      // Expiry is durable: due holds are found in the read model, whatever process placed them.
      sweeper = periodic(
        SWEEP_MS,
        async () => {
          evictIdle(mailboxes, Date.now() - MAILBOX_IDLE_MS);
          for (const eventId of paces.keys()) if (!mailboxes.has(eventId)) paces.delete(eventId);
          await sweep(this as Service & ReadModelMethods);
        },
        (err) => this.logger.warn("hold sweep failed:", String(err)),
      );
      sweeper.start();
    },
    // The sweep under way finishes (its commands decided and written) before the store closes.
    async stopped() {
      await sweeper?.stop();
    },
  };
}

function salesOf(doc: EventStockDoc): EventSales {
  const categories = Object.entries(doc.categories).map(([id, c]): CategorySales => {
    const { gross, refunded } = salesCounters(c);
    const { name, kind, price, currency, capacity, held, sold, available } = c;
    return { id, name, kind, price, currency, capacity, held, sold, available, revenue: gross - refunded, refunded };
  });
  const totals: SalesFigures = { capacity: 0, held: 0, sold: 0, available: 0, revenue: 0, refunded: 0 };
  for (const c of categories) for (const key of Object.keys(totals) as Array<keyof SalesFigures>) totals[key] += c[key];
  return { eventId: doc.eventId, open: doc.open, currency: categories[0]?.currency ?? null, categories, totals };
}

async function sweep(svc: Service & ReadModelMethods): Promise<void> {
  const due = await svc.liveDocs<HoldDoc>().find({ kind: "hold", expiresAt: { $lte: Date.now() } }, { limit: 500 });
  for (const eventId of new Set(due.map((h) => h.eventId))) {
    await svc.broker.call("inventory.expire", { eventId }, { meta: { user: SYSTEM } });
  }
}

/** Keeps each event's stock in line with its ticket categories and whether it is on sale. */
async function syncFromCatalogue(rt: Runtime, svc: Service, recorded: RecordedEvent): Promise<void> {
  const eventId = (recorded.data as { id: string }).id;
  const event = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(eventId));
  if (!event) return;
  const categories: SyncedCategory[] = event.categories.map((c) => ({
    id: c.id,
    name: c.name,
    price: c.price,
    currency: c.currency,
    kind: c.kind,
    capacity: c.kind === "ga" ? c.quota : c.seats.length,
    ...(c.kind === "seated" ? { seats: c.seats } : {}),
  }));
  await svc.broker.call(
    "inventory.sync",
    { eventId, open: event.status === "on_sale", categories },
    { meta: { user: SYSTEM, commandId: recorded.id } },
  );
}
