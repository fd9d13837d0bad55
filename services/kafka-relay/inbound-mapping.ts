import { createHash } from "node:crypto";
import type { InboundTopicKind, PartnerInbound } from "../../lib/config/partners";
import { externalId } from "../../lib/domain/external";
import { compact } from "../../lib/domain/objects";
import {
  decodeProviderEvent,
  decodeProviderOrder,
  decodeProviderPartner,
  decodeProviderRefundRequest,
  type ProviderEvent,
  type ProviderEventStatus,
  type ProviderOrder,
  type ProviderPartner,
  type ProviderRefundRequest,
  type ProviderTicketSet,
} from "../../lib/kafka/provider-proto";
import { EVENT_CATEGORIES, type EventCategory, type EventStatus, type ImportEvent } from "../events/events.types";
import type { ImportOrder, ImportRefund } from "../orders/orders.types";
import type { ImportOrganizer } from "../organizers/organizers.types";

/**
 * The provider's streams (partner-streams.md section 2) translated into our import commands:
 * protocol only (enums, ids, units). The domain rules (names, dates, e-mails, whether the
 * event exists...) are the deciders'. Pure: the same bytes always give the same command.
 */

type Params<C> = Omit<C, "type" | "actor" | "at">;

export type InboundCommand =
  | { action: "organizers.import"; params: Params<ImportOrganizer> }
  | { action: "events.import"; params: Omit<Params<ImportEvent>, "organizer"> }
  | { action: "orders.importOrder"; params: Omit<Params<ImportOrder>, "event"> }
  | { action: "orders.importRefund"; params: Params<ImportRefund> };

/** A message we understood and have nothing to do with (an order not completed, a refund not approved). */
export interface InboundSkip {
  skip: string;
  /** Worth a log line: something the provider calls a partner that we do not take as one. */
  notable?: true;
}

/** A message that can never be applied as it is: undecodable, or missing what the contract requires. */
export class InboundRejected extends Error {
  override name = "InboundRejected";
}

export interface InboundContext {
  partner: string;
  inbound: Pick<PartnerInbound, "currency" | "timezone" | "categories">;
}

const EVENT_STATUS: Record<ProviderEventStatus, EventStatus> = {
  // Sales stopped: still shown, as our paused events are.
  STAND_BY: "paused",
  PUBLIC: "on_sale",
  CANCELED: "cancelled",
  FINISHED: "finished",
};

/**
 * The provider's category is an id of its own (its dictionary grows): the partner's mapping
 * names ours; an id it does not list is taken when it spells one of ours, else it is "other".
 */
export function categoryOf(value: string, categories: PartnerInbound["categories"]): EventCategory {
  const mapped = categories[value.trim()];
  if (mapped) return mapped;
  const key = value.trim().toLowerCase();
  return (EVENT_CATEGORIES as readonly string[]).includes(key) ? (key as EventCategory) : "other";
}

/**
 * The partners that organize events. A distributor sells other organizers' events (any status,
 * hidden or not): it becomes nothing here, or its events' organizer would be a reseller. A
 * partner without a role is taken as an organizer: its events name it as theirs.
 */
const ORGANIZER_ROLES = ["organizer", ""];

/** A set's "from" price: the lowest of its price rules (minor units), if it has any. */
function lowestPrice(set: ProviderTicketSet): number | undefined {
  const prices = set.rules.flatMap((r) => (r.simple ? [r.simple.price] : []));
  return prices.length > 0 ? Math.min(...prices) : undefined;
}

/** Cover images are embedded in our pages: https only; anything else is left out rather than refused. */
function httpsUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value).protocol === "https:" ? value : undefined;
  } catch {
    return undefined;
  }
}

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** "+7 (900) 123-45-67" → "+79001234567"; a number without its "+" gets one. Empty stays empty. */
export function normalizePhone(value: string): string {
  const compact = value.replace(/[\s()-]/g, "");
  if (compact === "") return "";
  return compact.startsWith("+") ? compact : `+${compact}`;
}

function splitName(name: string): { firstName?: string; lastName?: string } {
  const [first, ...rest] = name.trim().split(/\s+/);
  return { ...(first ? { firstName: first } : {}), ...(rest.length ? { lastName: rest.join(" ") } : {}) };
}

function organizerCommand(p: ProviderPartner, { partner }: InboundContext): InboundCommand | InboundSkip {
  if (!ORGANIZER_ROLES.includes(p.role.trim().toLowerCase()))
    return {
      skip: `partner ${p.id} is a ${p.role} (status ${p.status}${p.hidden ? ", hidden" : ""}), not an organizer`,
      notable: true,
    };
  const legal = p.legal;
  const legals = legal && {
    name: blankToUndefined(legal.name) ?? p.name,
    inn: blankToUndefined(legal.inn),
    ogrn: blankToUndefined(legal.ogrn),
    ogrnip: blankToUndefined(legal.ogrnip),
    address: blankToUndefined(legal.address),
  };
  const hasLegals = legals && (legals.inn || legals.ogrn || legals.ogrnip || blankToUndefined(legal.name));
  return {
    action: "organizers.import",
    params: {
      id: externalId(partner, p.id, "id"),
      source: { partner, id: p.id },
      updatedAt: p.updated_at,
      name: p.name,
      ...(hasLegals ? { legals: compact(legals) } : {}),
    },
  };
}

function eventCommand(e: ProviderEvent, { partner, inbound }: InboundContext): InboundCommand {
  return {
    action: "events.import",
    params: compact({
      id: externalId(partner, e.id, "id"),
      source: { partner, id: e.id },
      updatedAt: e.updated_at,
      organizerId: externalId(partner, e.org, "org"),
      name: e.name,
      description: blankToUndefined(e.description),
      category: categoryOf(e.category, inbound.categories),
      status: EVENT_STATUS[e.status],
      // Open date (open_date=15): the start is not known, whatever the lifetime says.
      openDate: e.open_date || undefined,
      startsAt: e.open_date ? undefined : e.lifetime?.start,
      endsAt: e.lifetime?.finish,
      timezone: inbound.timezone,
      venueId: e.venue ? externalId(partner, e.venue, "venue") : undefined,
      seriesId: e.meta ? externalId(partner, e.meta, "meta") : undefined,
      artistIds: e.artists.length ? e.artists.map((a, i) => externalId(partner, a, `artists[${i}]`)) : undefined,
      mediaUrl: httpsUrl(e.media?.cover) ?? httpsUrl(e.media?.cover_original),
      // A removed set is gone; a set without a name is called by its sector or id.
      ticketSets: e.sets
        .filter((s) => !s.removed)
        .map((s) => {
          const price = lowestPrice(s);
          return compact({
            id: s.id,
            name: blankToUndefined(s.name) ?? blankToUndefined(s.sector) ?? s.id,
            description: blankToUndefined(s.description),
            sector: blankToUndefined(s.sector),
            seated: s.with_seats,
            amount: s.amount,
            price,
            currency: price === undefined ? undefined : inbound.currency,
          });
        }),
    }),
  };
}

function orderCommand(o: ProviderOrder, { partner, inbound }: InboundContext): InboundCommand | InboundSkip {
  const status = o.status === "DONE" ? "done" : o.status === "CANCELLED" || o.status === "EXPIRED" ? "cancelled" : null;
  if (!status) return { skip: `order ${o.id} is ${o.status}: only completed or cancelled orders are imported` };
  const customer = o.settings?.customer;
  return {
    action: "orders.importOrder",
    params: compact({
      id: externalId(partner, o.id, "id"),
      source: { partner, id: o.id },
      status,
      number: String(o.number),
      eventId: externalId(partner, o.event, "event"),
      organizerId: o.org ? externalId(partner, o.org, "org") : undefined,
      customer: {
        email: customer?.email ?? "",
        phone: normalizePhone(customer?.phone ?? ""),
        ...splitName(customer?.name ?? ""),
      },
      userId: `ext:${partner}:${customer?.user ?? ""}`,
      currency: inbound.currency,
      createdAt: o.created_at ?? o.done_at,
      tickets: o.tickets.map((t, i) =>
        compact({
          id: externalId(partner, t.id, `tickets[${i}].id`),
          // Scanners read barcodes as they are printed; the door looks them up upper-case.
          barcode: t.barcode.trim().toUpperCase(),
          series: t.serial,
          number: String(t.number),
          categoryId: t.set,
          sector: blankToUndefined(t.sector),
          row: blankToUndefined(t.seat?.row),
          seat: blankToUndefined(t.seat?.number),
          price: t.price,
        }),
      ),
    }),
  };
}

function refundCommand(r: ProviderRefundRequest, { partner }: InboundContext): InboundCommand | InboundSkip {
  if (r.status !== "APPROVED") return { skip: `refund request ${r.id} is ${r.status}: only approved ones refund tickets` };
  return {
    action: "orders.importRefund",
    params: compact({
      id: externalId(partner, r.order, "order"),
      refundId: externalId(partner, r.id, "id"),
      source: { partner, id: r.id },
      ticketIds: r.tickets.map((t, i) => externalId(partner, t.id, `tickets[${i}].id`)),
      eventId: r.event ? externalId(partner, r.event, "event") : undefined,
      organizerId: r.org ? externalId(partner, r.org, "org") : undefined,
    }),
  };
}

const DECODERS = {
  partners: (bytes: Uint8Array, ctx: InboundContext) => organizerCommand(decodeProviderPartner(bytes), ctx),
  events: (bytes: Uint8Array, ctx: InboundContext) => eventCommand(decodeProviderEvent(bytes), ctx),
  orders: (bytes: Uint8Array, ctx: InboundContext) => orderCommand(decodeProviderOrder(bytes), ctx),
  refundRequests: (bytes: Uint8Array, ctx: InboundContext) => refundCommand(decodeProviderRefundRequest(bytes), ctx),
} satisfies Record<InboundTopicKind, (bytes: Uint8Array, ctx: InboundContext) => InboundCommand | InboundSkip>;

/** Decodes one message of a provider topic into the command that imports it; throws InboundRejected with the reason. */
export function mapInbound(kind: InboundTopicKind, bytes: Uint8Array, ctx: InboundContext): InboundCommand | InboundSkip {
  try {
    return DECODERS[kind](bytes, ctx);
  } catch (err) {
    throw new InboundRejected(err instanceof Error ? err.message : String(err));
  }
}

/**
 * The command id of a message's commands: the same bytes on the same stream of the same
 * partner are the same message, so a re-delivery is answered with the first result.
 */
export function inboundCommandId(partner: string, kind: InboundTopicKind, bytes: Uint8Array): string {
  return `inbound:${partner}:${kind}:${createHash("sha256").update(bytes).digest("hex").slice(0, 40)}`;
}
