import { utcOffset } from "../../lib/domain/time";
import { fold, type Decider } from "../../lib/eventlog/decider";
import type { Commit, EventLog, NewEvent } from "../../lib/eventlog/types";
import {
  PARTNER_CURRENCIES,
  partnerEvent,
  partnerOrganizer,
  type PartnerCurrency,
  type PartnerCustomer,
  type PartnerEvent,
  type PartnerOrder,
  type PartnerOrganizer,
  type PartnerRefund,
  type PartnerTicket,
  type PartnerTicketStatus,
} from "../../lib/kafka/partner-json";
import { artistDecider } from "../artists/artists.decider";
import { artistStream } from "../artists/artists.types";
import { eventDecider } from "../events/events.decider";
import { eventStream, type CatalogueEvent } from "../events/events.types";
import { orderDecider } from "../orders/orders.decider";
import type { Customer, Order, OrderEvent, Ticket } from "../orders/orders.types";
import type { Store } from "../../lib/store/types";
import { organizerDecider } from "../organizers/organizers.decider";
import { organizerStream } from "../organizers/organizers.types";
import { venueDecider } from "../venues/venues.decider";
import { venueStream } from "../venues/venues.types";

/** One of our events as the music service's artist pages show it (JSON only: the contract has no schema for it). */
export interface MusicEventMessage {
  id: string;
  name: string;
  status: PartnerEvent["status"];
  start_at: number;
  finish_at: number;
  offset: string;
  venue: { name: string; city_name?: string };
  artists: Array<{ id: string; name: string; yandex_music_id?: string }>;
}

/** A message of the contract before it is encoded for one partner's format. */
export type PartnerMessage = {
  key: string;
  /** Identify the change that produced it: a partner drops repeats by `event-id` and key. */
  sourceEventId: string;
  streamVersion: number;
  /** The catalogue event this message refers to; it must reach the partner first. */
  eventId?: string;
  organizerId?: string;
} & (
  | { kind: "organizers"; body: PartnerOrganizer }
  | { kind: "events"; body: PartnerEvent; /** The event's IANA zone, for protobuf's `timezone`. */ timezone: string }
  | { kind: "music"; body: MusicEventMessage }
  | { kind: "orders"; body: PartnerOrder; eventId: string; organizerId: string }
  | { kind: "refunds"; body: PartnerRefund }
  | { kind: "tickets"; body: PartnerTicket }
);

export type MessageMapper = (commits: readonly Commit[]) => Promise<PartnerMessage[]>;

type StreamReader = (stream: string) => Promise<readonly Commit[]>;

/**
 * A stream's state as of a log position, so a replay of the same commit maps to the same
 * message whatever happened to the stream since.
 */
async function stateAt<E extends NewEvent, S>(
  read: StreamReader,
  decider: Pick<Decider<unknown, E, S>, "evolve" | "initialState">,
  stream: string,
  pos: number,
): Promise<S> {
  const commits = (await read(stream)).filter((c) => c.pos <= pos);
  return fold(decider, decider.initialState(), commits);
}

/**
 * Reads each stream once for a batch: its commits, its organizers and its artists share them.
 * A read taken while mapping the batch holds every commit up to the batch's last position, so
 * filtering it by position gives what a read per commit would.
 */
function batchReader(log: EventLog): StreamReader {
  const reads = new Map<string, Promise<Commit[]>>();
  return (stream) => {
    let read = reads.get(stream);
    if (!read) reads.set(stream, (read = log.readStream(stream)));
    return read;
  };
}

/** Which of our events are at a venue: so a venue's geocoding reaches every event there. */
interface VenueEventDoc {
  _id: string;
  venueId: string;
  eventId: string;
}

export const VENUE_EVENTS = "partner_venue_events";

/**
 * The events at each venue, as the catalogue mappers see event commits go by. The relay maps the
 * log in order, so when a venue's geocoding is mapped every event placed there before it is
 * listed; an event that moved away since is recognised by its own state and left out.
 */
class VenueEvents {
  private indexed = false;
  /** Pairs already written by this mapper: an event's every commit need not write again. */
  private readonly known = new Set<string>();
  constructor(private readonly store: Store) {}

  private get docs() {
    return this.store.collection<VenueEventDoc>(VENUE_EVENTS);
  }

  async record(venueId: string, eventId: string): Promise<void> {
    if (!this.indexed) {
      await this.docs.ensureIndex({ field: "venueId" });
      this.indexed = true;
    }
    const id = `${venueId}|${eventId}`;
    if (this.known.has(id)) return;
    await this.docs.upsert({ _id: id, venueId, eventId });
    this.known.add(id);
  }

  async at(venueId: string): Promise<string[]> {
    return (await this.docs.find({ venueId }, { sort: { _id: 1 } })).map((d) => d.eventId);
  }
}

/**
 * The event with its venue's coordinates as the venue's own stream has them at that position:
 * a venue geocoded after the event was created has them there, not in the event's snapshot.
 */
async function withVenueLocation(read: StreamReader, event: CatalogueEvent, pos: number): Promise<CatalogueEvent> {
  if (!event.venue.id) return event;
  const venue = await stateAt(read, venueDecider, venueStream(event.venue.id), pos);
  // Coordinates belong to an address: only the one the event shows.
  if (!venue?.location || venue.address !== event.venue.address) return event;
  return { ...event, venue: { ...event.venue, lat: venue.location.lat, lon: venue.location.lon } };
}

/** Organizer, event and music-feed messages of the catalogue log. */
export function catalogueMessages(log: EventLog, store: Store): MessageMapper {
  const venues = new VenueEvents(store);
  return async (commits) => {
    const read = batchReader(log);
    const out: PartnerMessage[] = [];
    /** One event's messages as of a position, the change that caused them named by `source`. */
    async function eventMessages(stream: string, pos: number, source: { sourceEventId: string }, music: boolean) {
      const commits = (await read(stream)).filter((c) => c.pos <= pos);
      const state = fold(eventDecider, eventDecider.initialState(), commits);
      if (!state || state.source) return;
      const event = await withVenueLocation(read, state, pos);
      const organizer = await stateAt(read, organizerDecider, organizerStream(event.organizerId), pos);
      const body = partnerEvent(event, organizer);
      if (!body) return;
      const refs = { eventId: event.id, organizerId: event.organizerId, streamVersion: commits[commits.length - 1].seq };
      out.push({ kind: "events", key: event.id, body, timezone: event.timezone, ...source, ...refs });
      if (music) out.push({ kind: "music", key: event.id, body: await musicEvent(read, event, pos, body), ...source, ...refs });
    }
    for (const commit of commits) {
      const [kind, ...rest] = commit.stream.split("-");
      const id = rest.join("-");
      const last = commit.events[commit.events.length - 1];
      const source = { sourceEventId: last.id, streamVersion: commit.seq };
      if (kind === "organizer") {
        const organizer = await stateAt(read, organizerDecider, commit.stream, commit.pos);
        // What we imported from a partner is that partner's to publish, not ours.
        if (organizer && !organizer.source)
          out.push({ kind: "organizers", key: id, body: partnerOrganizer(organizer), ...source });
      } else if (kind === "event") {
        const event = await stateAt(read, eventDecider, commit.stream, commit.pos);
        if (!event || event.source) continue;
        if (event.venue.id) await venues.record(event.venue.id, event.id);
        await eventMessages(commit.stream, commit.pos, source, true);
      } else if (kind === "venue" && commit.events.some((e) => e.type === "VenueGeocoded")) {
        // Every event at the venue goes out again with its coordinates, named by the geocoding
        // (its event-id), so a partner drops a repeat of it; each key stays in log order.
        for (const eventId of await venues.at(id)) {
          const event = await stateAt(read, eventDecider, eventStream(eventId), commit.pos);
          if (event?.venue.id === id) await eventMessages(eventStream(eventId), commit.pos, source, false);
        }
      }
    }
    return out;
  };
}

async function musicEvent(
  read: StreamReader,
  event: CatalogueEvent,
  pos: number,
  shown: PartnerEvent,
): Promise<MusicEventMessage> {
  const artists: MusicEventMessage["artists"] = [];
  for (const snapshot of event.artists) {
    const artist = await stateAt(read, artistDecider, artistStream(snapshot.id), pos);
    artists.push({
      id: snapshot.id,
      name: snapshot.name,
      ...(artist?.yandexMusicId ? { yandex_music_id: artist.yandexMusicId } : {}),
    });
  }
  return {
    id: event.id,
    name: event.name,
    status: shown.status,
    // The dates as shown: an event without them is never shown.
    start_at: shown.start_at ?? shown.finish_at,
    finish_at: shown.finish_at,
    offset: utcOffset(shown.start_at ?? shown.finish_at, event.timezone),
    venue: { name: event.venue.name, ...(event.venue.city ? { city_name: event.venue.city } : {}) },
    artists,
  };
}

function currencyOf(code: string): PartnerCurrency | undefined {
  return (PARTNER_CURRENCIES as readonly string[]).includes(code) ? (code as PartnerCurrency) : undefined;
}

function customerOf(customer: Customer): PartnerCustomer {
  return {
    email: customer.email,
    phone: customer.phone,
    ...(customer.firstName ? { first_name: customer.firstName } : {}),
    ...(customer.lastName ? { last_name: customer.lastName } : {}),
  };
}

function ticketFields(ticket: Ticket) {
  const currency = currencyOf(ticket.currency);
  return {
    barcode: ticket.barcode,
    number: ticket.number,
    series: ticket.series,
    ...(ticket.row ? { row: ticket.row } : {}),
    ...(ticket.seat ? { seat: ticket.seat } : {}),
    category: ticket.categoryName,
    price_nominal: ticket.price,
    ...(currency ? { currency } : {}),
  };
}

function ticketMessage(order: Order, ticket: Ticket, status: PartnerTicketStatus): PartnerTicket {
  const name = [order.customer.firstName, order.customer.lastName].filter(Boolean).join(" ");
  return {
    id: ticket.id,
    status,
    ...ticketFields(ticket),
    customer: { email: order.customer.email, phone: order.customer.phone, ...(name ? { name } : {}) },
    event_id: order.eventId,
    organizer_id: order.organizerId,
    order_id: order.id,
  };
}

function orderMessage(order: Order, tickets: Ticket[]): PartnerOrder {
  return {
    id: order.id,
    number: order.number,
    customer: customerOf(order.customer),
    tickets: tickets.map((t) => ({ id: t.id, event_id: order.eventId, ...ticketFields(t) })),
  };
}

/** An order as it is now: the completed order and every ticket's current status (for a resync). */
export async function orderSnapshot(log: EventLog, stream: string): Promise<PartnerMessage[]> {
  const commits = await log.readStream(stream);
  const last = commits[commits.length - 1];
  const order = fold(orderDecider, null, commits);
  if (!last || !order || order.source || order.tickets.length === 0) return [];
  const source = {
    eventId: order.eventId,
    organizerId: order.organizerId,
    streamVersion: last.seq,
    sourceEventId: last.events[last.events.length - 1].id,
  };
  return [
    { kind: "orders", key: order.id, body: orderMessage(order, order.tickets), ...source },
    ...order.tickets.map((t) => ({ kind: "tickets" as const, key: t.id, body: ticketMessage(order, t, t.status), ...source })),
  ];
}

const ORDER_EVENTS_FOR_PARTNERS = new Set(["TicketsIssued", "TicketCheckedIn", "TicketsRefunded"]);

/**
 * Each order's state right after the last of its commits this mapper saw, so a commit folds onto
 * the state before it instead of reading its stream again (a query per commit on MongoDB). The
 * state after a stream's n-th commit never changes, so the cache cannot make a replay map a commit
 * differently; a commit whose predecessor is not cached is mapped from a read of its stream.
 */
class OrderStates {
  /** Two generations: when the newer is full it becomes the older, and the older is dropped. */
  private recent = new Map<string, { seq: number; state: Order | null }>();
  private older = new Map<string, { seq: number; state: Order | null }>();

  constructor(
    private readonly log: EventLog,
    private readonly perGeneration = 10_000,
  ) {}

  /** Folds a commit onto the cached state before it, when that costs no read. */
  advance(commit: Commit): void {
    const state = this.fromCache(commit);
    if (state !== undefined) this.remember(commit, state);
  }

  /** The order as of this commit. */
  async at(commit: Commit): Promise<Order | null> {
    let state = this.fromCache(commit);
    if (state === undefined) state = await stateAt((s) => this.log.readStream(s), orderDecider, commit.stream, commit.pos);
    this.remember(commit, state);
    return state;
  }

  private known(stream: string) {
    return this.recent.get(stream) ?? this.older.get(stream);
  }

  private fromCache(commit: Commit): Order | null | undefined {
    const known = this.known(commit.stream);
    if (known?.seq === commit.seq) return known.state;
    const before = commit.seq === 1 ? null : known?.seq === commit.seq - 1 ? known.state : undefined;
    return before === undefined ? undefined : fold(orderDecider, before, [commit]);
  }

  private remember(commit: Commit, state: Order | null): void {
    const known = this.known(commit.stream);
    if (known && known.seq > commit.seq) return; // a replay behind the live relay: keep the newer state
    if (this.recent.size >= this.perGeneration && !this.recent.has(commit.stream)) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(commit.stream, { seq: commit.seq, state });
  }
}

/** Completed orders, refunds and ticket status changes of the sales log. */
export function salesMessages(log: EventLog): MessageMapper {
  const orders = new OrderStates(log);
  return async (commits) => {
    const out: PartnerMessage[] = [];
    for (const commit of commits) {
      if (!commit.stream.startsWith("order-")) continue;
      const events = commit.events as unknown as Array<OrderEvent & { id: string }>;
      if (!events.some((e) => ORDER_EVENTS_FOR_PARTNERS.has(e.type))) {
        orders.advance(commit);
        continue;
      }
      const order = await orders.at(commit);
      // Imported orders were sold by a partner; their event is never published, so they would wait for it forever.
      if (!order || order.source) continue;
      const refs = { eventId: order.eventId, organizerId: order.organizerId, streamVersion: commit.seq };
      const ticket = (id: string) => order.tickets.find((t) => t.id === id);
      for (const event of events) {
        const source = { ...refs, sourceEventId: event.id };
        if (event.type === "TicketsIssued") {
          const issued = event.data.tickets.map((t) => ticket(t.id) ?? { ...t });
          out.push({ kind: "orders", key: order.id, body: orderMessage(order, issued), ...source });
          for (const t of issued) out.push({ kind: "tickets", key: t.id, body: ticketMessage(order, t, "active"), ...source });
        } else if (event.type === "TicketCheckedIn") {
          const t = ticket(event.data.ticketId);
          if (t) out.push({ kind: "tickets", key: t.id, body: ticketMessage(order, t, "used"), ...source });
        } else if (event.type === "TicketsRefunded") {
          const refund: PartnerRefund = { customer: customerOf(order.customer), ticket_ids: event.data.ticketIds };
          out.push({ kind: "refunds", key: event.data.refundId, body: refund, ...source });
          for (const id of event.data.ticketIds) {
            const t = ticket(id);
            if (t) out.push({ kind: "tickets", key: t.id, body: ticketMessage(order, t, "refunded"), ...source });
          }
        }
      }
    }
    return out;
  };
}
