import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import {
  actorOf,
  created,
  dateTimeParam as dateTime,
  idParam,
  newId,
  optionalId,
  pagingParams,
  CATALOGUE_WRITE_ERRORS,
} from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import { notFound, toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import { requireOwner } from "../../lib/domain/actor";
import type { DistributiveOmit } from "../../lib/domain/objects";
import { hasRole, type Principal } from "../../lib/auth/principal";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { CURRENCIES } from "../../lib/domain/money";
import { containing, searchKey } from "../../lib/domain/text";
import { instant } from "../../lib/domain/time";
import { loadAggregate } from "../../lib/eventlog/decider";
import { EventSourced, type CommandContext, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { selectParam, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { artistDecider, artistSnapshot } from "../artists/artists.decider";
import { artistStream } from "../artists/artists.types";
import type { Availability, EventSales } from "../inventory/inventory.service";
import { organizerDecider, organizerSnapshot } from "../organizers/organizers.decider";
import { organizerStream } from "../organizers/organizers.types";
import { venueDecider, venueSnapshot } from "../venues/venues.decider";
import { venueStream } from "../venues/venues.types";
import { validationError } from "../../lib/app/validator.middleware";
import { eventDecider } from "./events.decider";
import { eventsProjection } from "./events.projection";
import { waitingRoomActions } from "./waiting-room.actions";
import {
  EVENT_CATEGORIES,
  EVENT_STATUSES,
  eventStream,
  type EventCommand,
  type EventDoc,
  type EventStatus,
  type ImportEvent,
} from "./events.types";

type Self = Service & EventSourcedMethods & ReadModelMethods & EventMethods;

export interface EventMethods {
  command(ctx: AppContext, id: string, command: DistributiveOmit<EventCommand, "actor" | "at">, name: string): Promise<unknown>;
}

/** What clients see of an event. */
const EVENT_FIELDS = [
  "_id",
  "id",
  "name",
  "description",
  "category",
  "status",
  "startsAt",
  "endsAt",
  "startsAtIso",
  "endsAtIso",
  "timezone",
  "venue",
  "organizer",
  "artists",
  "seriesId",
  "mediaUrl",
  "categories",
  "capacity",
  "priceFrom",
  "currency",
  "cancelReason",
  "publishedAt",
  "waitingRoom",
  "source",
  "ticketSets",
  "createdAt",
  "updatedAt",
];

/** Statuses anyone may see; drafts are their organizer's (and admins') business. */
const PUBLIC_STATUSES: EventStatus[] = ["on_sale", "paused", "cancelled", "finished"];
const DEFAULT_SEARCH_STATUSES: EventStatus[] = ["on_sale", "paused"];

const artistIds = { type: "array", max: 30, items: idParam };
const descriptive = {
  name: { type: "string", max: 200 },
  description: { type: "string", max: 10_000, optional: true },
  category: { type: "enum", values: [...EVENT_CATEGORIES] },
  startsAt: dateTime,
  endsAt: dateTime,
  timezone: { type: "string", max: 64, optional: true },
  seriesId: { ...optionalId },
  mediaUrl: { type: "url", optional: true },
};

/**
 * The tickets a general-admission category offers: `capacity`, the name the category is read
 * back with. `quota` is its old name, still accepted (marked deprecated in the API document).
 */
const gaTickets = { type: "number", integer: true, positive: true, max: 1_000_000, optional: true };
const gaCapacity = { capacity: gaTickets, quota: { ...gaTickets, deprecated: true } };

/** The command's `quota` (its name in the event log) from `capacity` or the deprecated `quota`. */
function withQuota(params: Record<string, unknown>): Record<string, unknown> {
  const { capacity, quota, ...rest } = params;
  if (capacity !== undefined && quota !== undefined)
    throw validationError([
      { type: "forbidden", field: "quota", message: "'quota' is the old name of 'capacity': send only 'capacity'." },
    ]);
  const tickets = capacity ?? quota;
  return tickets === undefined ? rest : { ...rest, quota: tickets };
}

function optional<T extends Record<string, object>>(rules: T): T {
  return Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, { ...v, optional: true }])) as T;
}

function canSeeDrafts(user: Principal | null | undefined, organizerId: string): boolean {
  return !!user && (hasRole(user, "admin") || (hasRole(user, "organizer") && user.organizerId === organizerId));
}

interface SearchParams {
  q?: string;
  category?: string;
  city?: string;
  from?: string | number;
  to?: string | number;
  artist?: string;
  organizer?: string;
  status?: string;
  page?: number;
  pageSize?: number;
  sort?: string;
  select?: string;
}

/**
 * Events: the catalogue's centre. Commands load what they need from the write side (the
 * organizer, venue and artists the event shows); searches are served from the read model only.
 */
export default function eventsService(
  rt: Runtime,
): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods & EventMethods> {
  const log = () => rt.store.log(CATALOGUE_LOG);
  const venue = async (id: string) => venueSnapshot(await loadAggregate(log(), venueDecider, venueStream(id)));
  const artists = (ids: string[]) =>
    Promise.all(
      ids.map(
        async (id) =>
          artistSnapshot(await loadAggregate(log(), artistDecider, artistStream(id))) ?? { id, missing: true as const },
      ),
    );

  return {
    name: "events",
    mixins: [
      EventSourced(rt, CATALOGUE_LOG),
      ReadModel(rt, {
        projection: eventsProjection,
        fields: EVENT_FIELDS,
        sortable: ["startsAt", "priceFrom", "name", "createdAt"],
      }),
    ],
    actions: {
      // The generic list would show drafts; clients search through `search`.
      list: { visibility: "public" },
      create: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS, CAPACITY_EXCEEDED: 422 },
        successStatus: 201,
        params: {
          id: optionalId,
          organizerId: optionalId,
          venueId: idParam,
          artistIds: { ...artistIds, optional: true },
          ...descriptive,
          $$strict: true,
        },
        async handler(
          this: Self,
          ctx: AppContext<Record<string, unknown> & { id?: string; organizerId?: string; venueId: string; artistIds?: string[] }>,
        ) {
          const actor = actorOf(ctx);
          const { artistIds: ids = [], ...rest } = ctx.params;
          const id = ctx.params.id ?? newId(ctx, "event");
          const organizerId = ctx.params.organizerId ?? actor.organizerId ?? "";
          const command = {
            ...(rest as object),
            type: "CreateEvent",
            id,
            organizerId,
            organizer: organizerSnapshot(await loadAggregate(log(), organizerDecider, organizerStream(organizerId))),
            venue: await venue(ctx.params.venueId),
            artists: await artists(ids),
          } as DistributiveOmit<EventCommand, "actor" | "at">;
          const pos = await this.command(ctx, id, command, "create");
          return created(ctx, `/api/events/${id}`, await this.readAfterWrite(ctx, id, pos as number | undefined));
        },
      },
      update: {
        auth: ["organizer", "admin"],
        errors: {
          ...CATALOGUE_WRITE_ERRORS,
          EVENT_CLOSED: 409,
          VENUE_INCOMPATIBLE: 409,
          SEAT_CONFLICT: 409,
          CAPACITY_EXCEEDED: 422,
        },
        params: {
          id: idParam,
          venueId: { ...idParam, optional: true },
          artistIds: { ...artistIds, optional: true },
          ...optional(descriptive),
          $$strict: true,
        },
        async handler(
          this: Self,
          ctx: AppContext<Record<string, unknown> & { id: string; venueId?: string; artistIds?: string[] }>,
        ) {
          const { artistIds: ids, venueId, id, ...rest } = ctx.params;
          const command = {
            ...(rest as object),
            type: "UpdateEvent",
            id,
            ...(venueId ? { venueId, venue: await venue(venueId) } : {}),
            ...(ids ? { artists: await artists(ids) } : {}),
          } as DistributiveOmit<EventCommand, "actor" | "at">;
          const pos = await this.command(ctx, id, command, "update");
          return this.readAfterWrite(ctx, id, pos as number | undefined);
        },
      },
      addCategory: {
        auth: ["organizer", "admin"],
        errors: {
          ...CATALOGUE_WRITE_ERRORS,
          CATEGORY_EXISTS: 409,
          CATEGORY_NAME_TAKEN: 409,
          EVENT_CLOSED: 409,
          SEAT_CONFLICT: 409,
          CURRENCY_MISMATCH: 422,
          CAPACITY_EXCEEDED: 422,
        },
        successStatus: 201,
        params: {
          id: idParam,
          categoryId: optionalId,
          name: { type: "string", max: 100 },
          price: { type: "number", integer: true, min: 0, max: 100_000_000_00 },
          currency: { type: "enum", values: [...CURRENCIES] },
          kind: { type: "enum", values: ["ga", "seated"] },
          ...gaCapacity,
          seats: { type: "array", max: 100_000, items: { type: "string", max: 100 }, optional: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<Record<string, unknown> & { id: string; categoryId?: string }>) {
          const categoryId = ctx.params.categoryId ?? newId(ctx, "category");
          const command = { ...withQuota(ctx.params), type: "AddTicketCategory", categoryId } as DistributiveOmit<
            EventCommand,
            "actor" | "at"
          >;
          const pos = await this.command(ctx, ctx.params.id, command, `addCategory:${categoryId}`);
          return created(
            ctx,
            `/api/events/${ctx.params.id}`,
            await this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined),
          );
        },
      },
      updateCategory: {
        auth: ["organizer", "admin"],
        errors: {
          ...CATALOGUE_WRITE_ERRORS,
          CATEGORY_NAME_TAKEN: 409,
          CATEGORY_SOLD: 409,
          EVENT_CLOSED: 409,
          SEAT_CONFLICT: 409,
          CURRENCY_MISMATCH: 422,
          CAPACITY_EXCEEDED: 422,
        },
        params: {
          id: idParam,
          categoryId: idParam,
          name: { type: "string", max: 100, optional: true },
          price: { type: "number", integer: true, min: 0, max: 100_000_000_00, optional: true },
          ...gaCapacity,
          seats: { type: "array", max: 100_000, items: { type: "string", max: 100 }, optional: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<Record<string, unknown> & { id: string }>) {
          const sold = await soldCounts(ctx, ctx.params.id);
          const command = { ...withQuota(ctx.params), type: "UpdateTicketCategory", sold } as DistributiveOmit<
            EventCommand,
            "actor" | "at"
          >;
          const pos = await this.command(ctx, ctx.params.id, command, "updateCategory");
          return this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined);
        },
      },
      removeCategory: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS, CATEGORY_SOLD: 409, EVENT_CLOSED: 409, LAST_CATEGORY: 409 },
        params: { id: idParam, categoryId: idParam, $$strict: true },
        async handler(this: Self, ctx: AppContext<{ id: string; categoryId: string }>) {
          const sold = await soldCounts(ctx, ctx.params.id);
          const pos = await this.command(
            ctx,
            ctx.params.id,
            { ...ctx.params, type: "RemoveTicketCategory", sold },
            "removeCategory",
          );
          return this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined);
        },
      },
      ...waitingRoomActions(),
      publish: lifecycle("PublishEvent", "publish"),
      pause: lifecycle("PauseEvent", "pause"),
      finish: lifecycle("FinishEvent", "finish"),
      cancel: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS, INVALID_TRANSITION: 409 },
        params: { id: idParam, reason: { type: "string", min: 1, max: 500 }, $$strict: true },
        async handler(this: Self, ctx: AppContext<{ id: string; reason: string }>) {
          const pos = await this.command(ctx, ctx.params.id, { ...ctx.params, type: "CancelEvent" }, "cancel");
          return this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined);
        },
      },
      /** A partner's event, from the Kafka bridge (not routed by the gateway); the decider validates it. */
      import: {
        visibility: "public",
        params: { id: "string", source: "object", organizerId: "string", ticketSets: "array" },
        async handler(this: Self, ctx: AppContext<Omit<ImportEvent, "type" | "actor" | "at" | "organizer">>) {
          const organizer = organizerSnapshot(
            await loadAggregate(log(), organizerDecider, organizerStream(ctx.params.organizerId)),
          );
          const command = { ...ctx.params, type: "ImportEvent", organizer } as DistributiveOmit<EventCommand, "actor" | "at">;
          const full = { ...command, actor: actorOf(ctx), at: Date.now() } as EventCommand;
          const result = await this.execute(ctx as CommandContext, eventDecider, eventStream(ctx.params.id), full, "import");
          return { id: ctx.params.id, changed: !!result.commit && !result.duplicate, version: result.seq };
        },
      },
      get: {
        params: { id: idParam, select: selectParam(EVENT_FIELDS), $$strict: "remove" },
        async handler(this: Self, ctx: AppContext<{ id: string; select?: string }>) {
          const [doc] = await this.queryFind<EventDoc>(ctx, { _id: ctx.params.id }, 1);
          // A draft is not announced: to anyone else it does not exist.
          if (!doc || (doc.status === "draft" && !canSeeDrafts(ctx.meta.user, doc.organizer.id))) {
            throw notFound("event", ctx.params.id);
          }
          const full = { ...doc, availability: await availabilityOf(ctx, ctx.params.id) };
          if (!ctx.params.select) return full;
          const picked = new Set(ctx.params.select.split(","));
          return Object.fromEntries(Object.entries(full).filter(([k]) => picked.has(k)));
        },
      },
      /** Capacity, held, sold, available and revenue per ticket category: the event's organizer and admins only. */
      sales: {
        auth: ["organizer", "admin"],
        errors: { FORBIDDEN: 403, NOT_FOUND: 404 },
        params: { id: idParam, $$strict: "remove" },
        async handler(this: Self, ctx: AppContext<{ id: string }>): Promise<EventSales> {
          const event = await loadAggregate(log(), eventDecider, eventStream(ctx.params.id));
          // As on the event page, another organizer's draft does not exist.
          if (!event || (event.status === "draft" && !canSeeDrafts(ctx.meta.user, event.organizerId))) {
            throw notFound("event", ctx.params.id);
          }
          try {
            requireOwner(actorOf(ctx), event.organizerId, "this event");
          } catch (err) {
            throw toMoleculerError(err);
          }
          const sales = await ctx.call<EventSales | null, { eventId: string }>("inventory.sales", { eventId: event.id });
          // Nothing synced to the sales side yet (no ticket category): nothing to count.
          return (
            sales ?? {
              eventId: event.id,
              open: false,
              currency: event.categories[0]?.currency ?? null,
              categories: [],
              totals: { capacity: 0, held: 0, sold: 0, available: 0, revenue: 0, refunded: 0 },
            }
          );
        },
      },
      search: {
        errors: { VALIDATION: 400, FORBIDDEN: 403 },
        params: {
          q: { type: "string", min: 1, max: 100, optional: true },
          category: { type: "enum", values: [...EVENT_CATEGORIES], optional: true },
          city: { type: "string", min: 1, max: 100, optional: true },
          from: { ...dateTime, optional: true },
          to: { ...dateTime, optional: true },
          artist: { ...idParam, optional: true },
          organizer: { ...idParam, optional: true },
          status: {
            type: "string",
            optional: true,
            pattern: `^(${EVENT_STATUSES.join("|")})(,(${EVENT_STATUSES.join("|")}))*$`,
          },
          ...pagingParams(),
          sort: { type: "enum", values: ["startsAt", "-startsAt", "priceFrom", "-priceFrom", "name", "-name"], optional: true },
          select: selectParam(EVENT_FIELDS),
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<SearchParams>) {
          const p = ctx.params;
          const statuses = (p.status?.split(",") ?? DEFAULT_SEARCH_STATUSES) as EventStatus[];
          const draftsAllowed = p.organizer
            ? canSeeDrafts(ctx.meta.user, p.organizer)
            : hasRole(ctx.meta.user ?? { sub: "", roles: [] }, "admin");
          const allowed = statuses.filter((s) => PUBLIC_STATUSES.includes(s) || draftsAllowed);
          if (allowed.length < statuses.length) {
            throw new Errors.MoleculerClientError(
              "drafts are visible to their organizer only: filter by your organizer",
              403,
              "FORBIDDEN",
            );
          }
          const query: Record<string, unknown> = { status: { $in: statuses } };
          if (p.q) query.search = containing(searchKey(p.q));
          if (p.category) query.category = p.category;
          if (p.city) query.cityKey = searchKey(p.city);
          if (p.artist) query.artistIds = p.artist;
          if (p.organizer) query["organizer.id"] = p.organizer;
          const range: Record<string, number> = {};
          try {
            if (p.from !== undefined) range.$gte = instant(p.from, "from");
            if (p.to !== undefined) range.$lte = instant(p.to, "to");
          } catch (err) {
            throw new Errors.MoleculerClientError((err as Error).message, 400, "VALIDATION", {
              field: p.from !== undefined && range.$gte === undefined ? "from" : "to",
            });
          }
          if (Object.keys(range).length) query.startsAt = range;
          return this.queryList(ctx as AppContext, {
            query,
            page: p.page ?? 1,
            pageSize: p.pageSize ?? 20,
            sort: p.sort ?? "startsAt",
            fields: p.select?.split(","),
          });
        },
      },
    },
    methods: {
      /** Runs one event command as the caller; returns the log position it was written at. */
      async command(
        this: Self,
        ctx: AppContext,
        id: string,
        command: DistributiveOmit<EventCommand, "actor" | "at">,
        name: string,
      ) {
        const full = { ...command, actor: actorOf(ctx), at: Date.now() } as EventCommand;
        const result = await this.execute(ctx as CommandContext, eventDecider, eventStream(id), full, name);
        return result.commit?.pos;
      },
    },
  };
}

/** How long the event page waits for availability before it shows without it. */
const AVAILABILITY_TIMEOUT_MS = 3000;

/** Per category: what is still for sale. Null when the sales side cannot answer: the page still shows. */
async function availabilityOf(ctx: AppContext, eventId: string): Promise<Availability | null> {
  // Bounded and not retried: with the default timeout and retries a dead inventory node (not yet
  // noticed by the registry) held the page for 4 x 10 s, past the gateway's own timeout.
  return ctx
    .call<Availability | null, { eventId: string }>(
      "inventory.availability",
      { eventId },
      { timeout: AVAILABILITY_TIMEOUT_MS, retries: 0 },
    )
    .catch(() => null);
}

/** Tickets sold per category, from the sales side's write model; without it, no change may be checked. */
async function soldCounts(ctx: AppContext, eventId: string): Promise<Record<string, number>> {
  try {
    return await ctx.call<Record<string, number>, { eventId: string }>("inventory.soldCounts", { eventId });
  } catch (err) {
    throw new Errors.MoleculerRetryableError(
      `cannot check sold tickets right now: ${(err as Error).message}`,
      503,
      "SALES_UNAVAILABLE",
    );
  }
}

function lifecycle(type: "PublishEvent" | "PauseEvent" | "FinishEvent", name: string) {
  return {
    auth: ["organizer", "admin"] as const,
    errors: { ...CATALOGUE_WRITE_ERRORS, INVALID_TRANSITION: 409, EVENT_NOT_PUBLISHABLE: 422, EVENT_NOT_ENDED: 409 },
    params: { id: idParam, $$strict: true },
    async handler(this: Self, ctx: AppContext<{ id: string }>) {
      const pos = await this.command(ctx, ctx.params.id, { type, id: ctx.params.id }, name);
      return this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined);
    },
  };
}
