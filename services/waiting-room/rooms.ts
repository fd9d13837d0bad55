import type { Runtime } from "../../lib/app/runtime";
import { eventAggregates, type EventAggregates } from "../events/event-aggregates";
import { eventStream, type EventStatus, type WaitingRoomSettings } from "../events/events.types";

/** What the queue needs of its event, from the write side. */
export interface Room {
  eventId: string;
  status: EventStatus;
  /** Null: the event has no waiting room. */
  settings: WaitingRoomSettings | null;
}

/**
 * How long a loaded event is trusted, should the wake-up of a catalogue change (which clears
 * the cache) be lost.
 */
const FRESH_MS = 1000;

/**
 * The events of the queues on this node, read from the catalogue log at most once a second
 * each (or when a catalogue wake-up clears them): 20,000 joins in a second must not each read
 * the event's stream. Concurrent loads of one event share one read.
 */
export class Rooms {
  private readonly cache = new Map<string, { at: number; room: Promise<Room | null> }>();
  /** A reload reads only the commits after the version held. */
  private readonly events: EventAggregates;

  constructor(rt: Runtime) {
    this.events = eventAggregates(rt);
  }

  /** The event (null: it does not exist, or is an unannounced draft). */
  get(eventId: string, now = Date.now()): Promise<Room | null> {
    const cached = this.cache.get(eventId);
    if (cached && now - cached.at < FRESH_MS) return cached.room;
    const room = this.load(eventId);
    this.cache.set(eventId, { at: now, room });
    // A failed read is not kept: the next call tries again.
    room.catch(() => this.cache.delete(eventId));
    return room;
  }

  /** The event as the log says now (an operator's view must not be a second old). */
  fresh(eventId: string): Promise<Room | null> {
    this.cache.delete(eventId);
    return this.get(eventId);
  }

  /** Forgets every event: the catalogue changed (rare next to joins, so no need to know which event). */
  clear(): void {
    this.cache.clear();
  }

  /** Forgets events not asked about for a while. */
  evict(before: number): void {
    for (const [eventId, entry] of this.cache) if (entry.at < before) this.cache.delete(eventId);
  }

  private async load(eventId: string): Promise<Room | null> {
    const event = await this.events.load(eventStream(eventId));
    if (!event || event.status === "draft") return null;
    return { eventId, status: event.status, settings: event.waitingRoom ?? null };
  }
}
