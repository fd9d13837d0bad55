import type { Root, Type } from "protobufjs";
import { decodeMessage, encodeMessage, loadProtoRoot } from "./proto-schema";

/**
 * A ticketing provider's inbound streams (proto/provider/*.proto, shared/docs/partner-streams.md
 * section 2) as plain objects. Decoding follows proto3: absent scalars read as their defaults
 * ("", 0, false, the enum's zero value), absent messages and oneof members are omitted, unknown
 * fields are skipped. Enums come by name, 64-bit integers as numbers, Timestamps as epoch
 * milliseconds. Bytes that are not the message, an enum value the schema does not know and an
 * integer beyond 2^53 throw ProtoDecodeError, whose message is the dead-letter reason.
 */

export { ProtoDecodeError } from "./proto-schema";

export type ProviderPartnerStatus = "NEW" | "APPROVED" | "BOT" | "INACTIVE";

export interface ProviderLegal {
  name: string;
  address: string;
  inn: string;
  /** One of the two, or neither. */
  ogrn?: string;
  ogrnip?: string;
}

/** An organizer. */
export interface ProviderPartner {
  id: string;
  name: string;
  role: string;
  desc: string;
  status: ProviderPartnerStatus;
  hidden: boolean;
  updated_at?: number;
  legal?: ProviderLegal;
}

export type ProviderEventStatus = "STAND_BY" | "PUBLIC" | "CANCELED" | "FINISHED";

/** A ticket category. */
export interface ProviderTicketSet {
  id: string;
  name: string;
  description: string;
  pos: number;
  sector: string;
  with_seats: boolean;
  amount: number;
  /** Its prices over time (the simple rule's price, minor units). */
  rules: Array<{ id: string; lifetime?: { start?: number; finish?: number }; simple?: { price: number } }>;
  removed: boolean;
}

export interface ProviderEvent {
  id: string;
  /** The series' id; "" for a single event. */
  meta: string;
  name: string;
  description: string;
  status: ProviderEventStatus;
  org: string;
  venue: string;
  lifetime?: { start?: number; finish?: number };
  category: string;
  artists: string[];
  media?: { cover: string; cover_small: string; cover_original: string };
  open_date: boolean;
  sets: ProviderTicketSet[];
  tickets_amount: number;
  updated_at?: number;
}

export type ProviderOrderStatus = "EXECUTED" | "IN_PROGRESS" | "DONE" | "CANCELLED" | "EXPIRED";

export interface ProviderOrderCustomer {
  user: string;
  name: string;
  email: string;
  phone: string;
  lang: string;
}

export interface ProviderOrderTicket {
  id: string;
  serial: string;
  number: number;
  barcode: string;
  /** The ticket set's (category's) id. */
  set: string;
  sector: string;
  seat?: { row: string; number: string };
  price: number;
  nominal: number;
}

export interface ProviderOrder {
  id: string;
  number: number;
  status: ProviderOrderStatus;
  event: string;
  org: string;
  created_at?: number;
  done_at?: number;
  settings?: { customer?: ProviderOrderCustomer };
  tickets: ProviderOrderTicket[];
}

export type ProviderRefundStatus = "NEW" | "IN_PROGRESS" | "APPROVED" | "REJECTED";

export interface ProviderRefundRequest {
  id: string;
  status: ProviderRefundStatus;
  order: string;
  tickets: { id: string; price: number; nominal: number }[];
  event: string;
  org: string;
}

/** What the encoders take: any field may be left out, as the provider does for defaults. */
export type ProviderInput<T> = T extends (infer U)[]
  ? ProviderInput<U>[]
  : T extends object
    ? { [K in keyof T]?: ProviderInput<T[K]> }
    : T;

let provider: Root | undefined;

function providerType(name: "Partner" | "Event" | "Order" | "RefundRequest"): Type {
  provider ??= loadProtoRoot([
    "provider/partner.proto",
    "provider/event.proto",
    "provider/order.proto",
    "provider/refund_request.proto",
  ]);
  return provider.lookupType(name);
}

export function decodeProviderPartner(bytes: Uint8Array): ProviderPartner {
  return decodeMessage(providerType("Partner"), bytes);
}

export function decodeProviderEvent(bytes: Uint8Array): ProviderEvent {
  return decodeMessage(providerType("Event"), bytes);
}

export function decodeProviderOrder(bytes: Uint8Array): ProviderOrder {
  return decodeMessage(providerType("Order"), bytes);
}

export function decodeProviderRefundRequest(bytes: Uint8Array): ProviderRefundRequest {
  return decodeMessage(providerType("RefundRequest"), bytes);
}

/** The provider's side, for tests and the provider simulator. */
export function encodeProviderPartner(p: ProviderInput<ProviderPartner>): Buffer {
  return encodeMessage(providerType("Partner"), p);
}

export function encodeProviderEvent(p: ProviderInput<ProviderEvent>): Buffer {
  return encodeMessage(providerType("Event"), p);
}

export function encodeProviderOrder(p: ProviderInput<ProviderOrder>): Buffer {
  return encodeMessage(providerType("Order"), p);
}

export function encodeProviderRefundRequest(p: ProviderInput<ProviderRefundRequest>): Buffer {
  return encodeMessage(providerType("RefundRequest"), p);
}
