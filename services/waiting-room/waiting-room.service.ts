import { randomInt } from "node:crypto";
import { Errors, type Service, type ServiceBroker, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { idParam } from "../../lib/app/actions";
import { SYSTEM, type AppContext } from "../../lib/app/context";
import { toMoleculerError } from "../../lib/app/errors";
import { periodic, type Periodic } from "../../lib/app/periodic";
import type { Runtime } from "../../lib/app/runtime";
import { BusyError, evictIdle, Mailbox } from "../../lib/eventlog/mailbox";
import type { EventMeta } from "../../lib/eventlog/types";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { APPENDED_EVENT, type AppendedPayload } from "../../mixins/event-sourced.mixin";
import type { EventDoc } from "../events/events.types";
import { queueDecider } from "./queue.decider";
import { WAITING_LOG, queueStream, type QueueCommand, type QueueEvent, type QueueState } from "./queue.types";
import { placeView, type PlaceView } from "./queue.view";
import type { Pace } from "../inventory/pace";
import { AUTO_RATE, nextAutoRate, type AutoRate } from "./rate";
import { Rooms, type Room } from "./rooms";
import type { QueueStatus } from "../../lib/domain/queue-status";

type QueueMailbox = Mailbox<QueueCommand, QueueEvent, QueueState>;

/** Admissions are decided this often: "sold out" reaches every waiting buyer within one tick. */
const TICK_MS = 250;
/** The events with an open room are looked up this often (from the events read model). */
const ROOMS_REFRESH_MS = 1000;
/** A queue nobody touched for this long leaves memory; its next command reloads it from the log. */
const MAILBOX_IDLE_MS = 10 * 60_000;
/** Every call of one event's queue goes to the node holding its mailbox. */
const sharded = (shardKey: string) => ({ strategy: "Shard", strategyOptions: { shardKey } });

/** A place as the buyer sees it, with the admission token when admitted. */
export type PlaceAnswer = Omit<PlaceView, "expiresAt"> & { admission?: { token: string; expiresAt: number } };

/**
 * The waiting room in front of an event's sale (README, "Waiting room"): each event's queue is
 * a hot aggregate in a mailbox (group commits: a burst of joins costs one commit per batch),
 * on the node its id shards to. A ticker admits the next places at the event's rate and stops
 * when the inventory has nothing left to hold.
 */
export default function waitingRoomService(rt: Runtime): ServiceSchema<ServiceSettingSchema> {
  const mailboxes = new Map<string, QueueMailbox>();
  const rooms = new Rooms(rt);
  /** The automatic rate per event; kept in memory (a restart starts modestly again). */
  const autoRates = new Map<string, AutoRate>();
  let open: string[] = [];
  let ticker: Periodic | null = null;
  let lastRefresh = 0;
  const ttlMs = rt.config.waitingRoom.admissionTtlMs;

  const mailbox = (eventId: string): QueueMailbox => {
    let box = mailboxes.get(eventId);
    if (!box) {
      box = new Mailbox(rt.store.log(WAITING_LOG), queueDecider, queueStream(eventId), { maxQueue: 100_000, maxBatch: 4096 });
      mailboxes.set(eventId, box);
    }
    return box;
  };

  async function submit(meta: EventMeta, eventId: string, command: QueueCommand): Promise<QueueState> {
    const box = mailbox(eventId);
    try {
      await box.submit(command, meta);
    } catch (err) {
      if (err instanceof BusyError) {
        rt.metrics.busy();
        throw new Errors.MoleculerRetryableError("the queue is very busy: retry in a moment", 503, "BUSY", { retryAfterSec: 1 });
      }
      throw toMoleculerError(err);
    }
    return box.current();
  }

  /** The event, with a room that buyers may join. */
  async function roomFor(eventId: string): Promise<Room & { settings: NonNullable<Room["settings"]> }> {
    let room = await rooms.get(eventId);
    // A refusal is checked against the log itself: the room may have been set up a moment ago.
    if (!room?.settings) room = await rooms.fresh(eventId);
    if (!room) throw new Errors.MoleculerClientError(`event ${eventId} does not exist`, 404, "NOT_FOUND", { id: eventId });
    if (!room.settings)
      throw new Errors.MoleculerClientError(`event ${eventId} has no waiting room: order directly`, 409, "NO_WAITING_ROOM");
    if (room.status === "cancelled" || room.status === "finished")
      throw new Errors.MoleculerClientError(`sales for event ${eventId} are ${room.status}`, 409, "SALES_CLOSED");
    return room as Room & { settings: NonNullable<Room["settings"]> };
  }

  function effectiveRate(eventId: string, settings: NonNullable<Room["settings"]>): number {
    return settings.rate === "auto" ? (autoRates.get(eventId)?.rate ?? AUTO_RATE.startRate) : settings.rate;
  }

  function answer(state: QueueState, room: Room, sub: string): PlaceAnswer | null {
    const settings = room.settings!;
    const rate = effectiveRate(room.eventId, settings);
    const view = placeView(state, sub, Date.now(), { opensAt: settings.opensAt, rate, admissionTtlMs: ttlMs });
    if (!view) return null;
    const { expiresAt, ...rest } = view;
    if (view.status !== "admitted" || expiresAt === undefined) return rest;
    return { ...rest, admission: { token: rt.admissions.issue(room.eventId, sub, expiresAt), expiresAt } };
  }

  /** One admission round of one event, on the node owning its queue. */
  async function tick(broker: ServiceBroker, eventId: string): Promise<{ ticked: boolean }> {
    const room = await rooms.get(eventId);
    if (!room?.settings || room.status !== "on_sale") return { ticked: false };
    const settings = room.settings;
    const pace = await broker
      .call<Pace, { eventId: string }>("inventory.pace", { eventId }, { meta: { user: SYSTEM }, timeout: 2000, retries: 0 })
      .catch(() => null);
    const at = Date.now();
    let rate = effectiveRate(eventId, settings);
    if (settings.rate === "auto" && pace) {
      const next = nextAutoRate(autoRates.get(eventId) ?? null, pace, at);
      autoRates.set(eventId, next);
      rate = next.rate;
    }
    await submit({ actor: "system" }, eventId, {
      type: "Tick",
      eventId,
      at,
      opensAt: settings.opensAt,
      rate,
      available: pace?.available ?? null,
    });
    return { ticked: true };
  }

  return {
    name: "waitingRoom",
    actions: {
      join: {
        ...sharded("id"),
        auth: "user",
        errors: { NOT_FOUND: 404, NO_WAITING_ROOM: 409, SALES_CLOSED: 409, BUSY: 503 },
        params: { id: idParam, $$strict: true },
        async handler(ctx: AppContext<{ id: string }>): Promise<PlaceAnswer> {
          const eventId = ctx.params.id;
          const room = await roomFor(eventId);
          const sub = ctx.meta.user!.sub;
          const state = await submit(metaOf(ctx), eventId, {
            type: "Join",
            eventId,
            sub,
            at: Date.now(),
            opensAt: room.settings.opensAt,
            // Below 2^48, the most randomInt draws: ties are left to the account id.
            draw: randomInt(2 ** 48 - 1),
          });
          return answer(state, room, sub)!;
        },
      },
      place: {
        ...sharded("id"),
        auth: "user",
        errors: { NOT_FOUND: 404, NOT_IN_QUEUE: 404, NO_WAITING_ROOM: 409, SALES_CLOSED: 409 },
        params: { id: idParam, $$strict: true },
        async handler(ctx: AppContext<{ id: string }>): Promise<PlaceAnswer> {
          const eventId = ctx.params.id;
          const room = await roomFor(eventId);
          const place = answer(await mailbox(eventId).current(), room, ctx.meta.user!.sub);
          if (!place)
            throw new Errors.MoleculerClientError(
              `you have no place in the queue of event ${eventId}: join it first`,
              404,
              "NOT_IN_QUEUE",
            );
          return place;
        },
      },
      /** The queue in figures, for the REPL's `queue <eventId>`. */
      status: {
        ...sharded("eventId"),
        visibility: "public",
        params: { eventId: "string" },
        async handler(ctx: AppContext<{ eventId: string }>): Promise<QueueStatus> {
          const { eventId } = ctx.params;
          const room = await rooms.fresh(eventId);
          const state = await mailbox(eventId).current();
          const settings = room?.settings ?? null;
          return {
            eventId,
            opensAt: settings?.opensAt ?? null,
            opened: state.openedAt !== null,
            length: state.order.length + state.preQueue.size,
            preQueue: state.preQueue.size,
            admitted: state.admitted,
            soldOut: state.soldOut,
            rate: settings?.rate ?? null,
            effectiveRate: settings ? effectiveRate(eventId, settings) : null,
          };
        },
      },
    },
    events: {
      // A changed room (or event) is seen by the next join, not a second later.
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          if (ctx.params.log === CATALOGUE_LOG) rooms.clear();
        },
      },
    },
    started(this: Service) {
      // Calls of one queue are sharded to one node (the gateway's, the REPL's); that node holds
      // its mailbox and ticks it. Ticking a queue whose mailbox lives elsewhere would write from
      // two places (Moleculer prefers a local service over the shard ring).
      ticker = periodic(
        TICK_MS,
        async () => {
          const now = Date.now();
          if (now - lastRefresh >= ROOMS_REFRESH_MS) {
            lastRefresh = now;
            open = await openRooms(this);
            evictIdle(mailboxes, now - MAILBOX_IDLE_MS);
            rooms.evict(now - MAILBOX_IDLE_MS);
            for (const eventId of autoRates.keys()) if (!mailboxes.has(eventId)) autoRates.delete(eventId);
          }
          await Promise.all(
            open
              .filter((eventId) => mailboxes.has(eventId))
              .map((eventId) =>
                tick(this.broker, eventId).catch((err: Error) =>
                  this.logger.warn(`waiting room ${eventId}: tick failed: ${err.message}`),
                ),
              ),
          );
        },
        (err) => this.logger.warn("waiting room ticker failed:", String(err)),
      );
      ticker.start();
    },
    async stopped() {
      await ticker?.stop();
    },
  };
}

function metaOf(ctx: AppContext): EventMeta {
  return { actor: ctx.meta.user?.sub ?? "system", correlationId: ctx.requestID ?? undefined };
}

/** Events on sale with a waiting room, from the events read model. */
async function openRooms(svc: Service): Promise<string[]> {
  const docs = await svc.broker.call<Array<Pick<EventDoc, "id">>, Record<string, unknown>>(
    "events.find",
    { query: { status: "on_sale", "waitingRoom.opensAt": { $gt: 0 } }, fields: ["id"], limit: 1000 },
    { meta: { user: SYSTEM }, timeout: 5000, retries: 0 },
  );
  return docs.map((d) => d.id);
}
