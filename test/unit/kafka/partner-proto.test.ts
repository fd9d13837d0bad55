/**
 * The protobuf wire format of the partner contract (shared/docs/partner-streams.md).
 *
 * Outbound (vibe.v1): encoded with our .proto files, read back with the independent wire reader
 * below (not protobufjs, not our schema), and every field compared with the contract's field
 * numbers, written out literally. Inbound (provider): bytes built by the independent writer
 * below, with fields our schema does not know, decoded with our schema.
 */
import {
  encodePartnerEvent,
  encodePartnerMessage,
  encodePartnerOrder,
  encodePartnerOrganizer,
  encodePartnerRefund,
  encodePartnerTicket,
} from "../../../lib/kafka/partner-proto";
import type { PartnerEvent, PartnerOrder, PartnerTicket } from "../../../lib/kafka/partner-json";
import {
  ProtoDecodeError,
  decodeProviderEvent,
  decodeProviderOrder,
  decodeProviderPartner,
  decodeProviderRefundRequest,
  encodeProviderEvent,
  encodeProviderOrder,
  encodeProviderPartner,
  encodeProviderRefundRequest,
  type ProviderEvent,
  type ProviderOrder,
  type ProviderPartner,
  type ProviderRefundRequest,
} from "../../../lib/kafka/provider-proto";

// ---- An independent proto3 wire reader and writer (varint, 64-bit, length-delimited) ----

/** Field number -> every value it carries, in order (a repeated field has several). */
type Fields = { [field: number]: unknown[] };
/** Which length-delimited fields hold a message (and that message's own nested fields); the others are read as UTF-8. */
type Nested = { [field: number]: Nested };

function readVarint(buf: Uint8Array, at: { pos: number }): bigint {
  let value = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at.pos >= buf.length) throw new Error("truncated varint");
    const byte = buf[at.pos++];
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return value;
  }
  throw new Error("varint longer than 10 bytes");
}

function readWire(buf: Uint8Array, nested: Nested = {}): Fields {
  const fields: Fields = {};
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = Number(readVarint(buf, at));
    const [field, wireType] = [key >>> 3, key & 7];
    let value: unknown;
    if (wireType === 0) {
      value = Number(BigInt.asIntN(64, readVarint(buf, at)));
    } else if (wireType === 1) {
      if (at.pos + 8 > buf.length) throw new Error("truncated fixed64");
      value = Buffer.from(buf.buffer, buf.byteOffset + at.pos, 8).readDoubleLE(0);
      at.pos += 8;
    } else if (wireType === 2) {
      const length = Number(readVarint(buf, at));
      if (at.pos + length > buf.length) throw new Error("truncated length-delimited field");
      const bytes = buf.subarray(at.pos, at.pos + length);
      at.pos += length;
      value = field in nested ? readWire(bytes, nested[field]) : Buffer.from(bytes).toString("utf8");
    } else {
      throw new Error(`field ${field} has wire type ${wireType}, which the contract does not use`);
    }
    (fields[field] ??= []).push(value);
  }
  return fields;
}

function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest ? low | 0x80 : low);
  } while (rest);
  return out;
}

const wire = {
  varint: (field: number, value: number | bigint | boolean) => [
    ...varint(field * 8),
    ...varint(typeof value === "boolean" ? Number(value) : value),
  ],
  bytes: (field: number, bytes: readonly number[]) => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes],
  string: (field: number, text: string) => wire.bytes(field, [...Buffer.from(text, "utf8")]),
  message: (field: number, ...parts: number[][]) => wire.bytes(field, parts.flat()),
  /** google.protobuf.Timestamp: seconds=1, nanos=2. */
  timestamp: (field: number, seconds: number, nanos = 0) =>
    wire.message(field, wire.varint(1, seconds), nanos ? wire.varint(2, nanos) : []),
};

const bytesOf = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** Fields the provider's real messages carry and our schema does not declare: they must be skipped. */
const UNKNOWN = [wire.varint(99, 123456789), wire.bytes(100, [0xde, 0xad, 0xbe, 0xef]), wire.timestamp(98, 1)];

// ---- Outbound: vibe.v1 ----

const JAN_2026 = Date.UTC(2026, 0, 1, 19, 0); // above 2^32: int64 for real
const BIG_PRICE = 2 ** 40 + 7;

const fullTicket: PartnerTicket = {
  id: "tk-1",
  status: "refunded",
  barcode: "4600000000017",
  customer: { email: "ann@example.com", phone: "+79001234567", name: "Ann Lee" },
  event_id: "ev-1",
  organizer_id: "org-1",
  order_id: "ord-1",
  number: "000123",
  series: "AB",
  row: "12",
  seat: "7",
  category: "Dance floor",
  description: "Entrance B",
  price_nominal: BIG_PRICE,
  currency: "GBP",
};

const fullEvent: PartnerEvent = {
  id: "ev-1",
  group_id: "series-1",
  name: "Night of jazz",
  status: "active",
  category: "concert",
  start_at: JAN_2026,
  finish_at: JAN_2026 + 3 * 3600_000,
  offset: 3,
  media: "https://cdn.example.com/jazz.jpg",
  description: "Three hours of jazz",
  organizer: { id: "org-1", name: "Jazz Club" },
  venue: {
    id: "v-1",
    name: "Main hall",
    address: "Tverskaya 1",
    description: "Second floor",
    zipcode: "125009",
    city_name: "Moscow",
    lat: 55.757718,
    lon: -37.611347,
  },
};

const minimalEvent: PartnerEvent = {
  id: "ev-2",
  name: "Open date",
  status: "paused",
  category: "other",
  finish_at: JAN_2026,
  offset: -5.5,
  organizer: { id: "org-2", name: "Someone" },
};

const order: PartnerOrder = {
  id: "ord-1",
  number: "A-1001",
  customer: { email: "ann@example.com", phone: "+79001234567", first_name: "Ann", last_name: "Lee" },
  tickets: [
    {
      id: "tk-1",
      event_id: "ev-1",
      barcode: "4600000000017",
      number: "000123",
      series: "AB",
      row: "12",
      seat: "7",
      category: "Stalls",
      description: "Entrance B",
      price_nominal: BIG_PRICE,
      currency: "RUB",
    },
    { id: "tk-2", event_id: "ev-1", barcode: "4600000000024", category: "Dance floor" },
  ],
};

describe("vibe.v1 messages, read back by an independent wire reader", () => {
  it("Ticket: every field under the contract's number, the customer nested, int64 price, enums by value", () => {
    expect(readWire(encodePartnerTicket(fullTicket), { 4: {} })).toEqual({
      1: ["tk-1"],
      2: [4], // Status.REFUNDED
      3: ["4600000000017"],
      4: [{ 1: ["ann@example.com"], 2: ["+79001234567"], 3: ["Ann Lee"] }],
      5: ["ev-1"],
      6: ["org-1"],
      7: ["000123"],
      8: ["AB"],
      9: ["12"],
      10: ["7"],
      11: ["Dance floor"],
      12: ["ord-1"],
      13: ["Entrance B"],
      14: [BIG_PRICE],
      15: [4], // Currency.GBP
    });
  });

  it.each([
    ["active", 1],
    ["used", 2],
    ["cancelled", 3],
    ["refunded", 4],
  ] as const)("Ticket.status %s is %d", (status, value) => {
    expect(readWire(encodePartnerTicket({ ...fullTicket, status }), { 4: {} })[2]).toEqual([value]);
  });

  it("Ticket: absent optional fields are not on the wire", () => {
    const ticket: PartnerTicket = {
      id: "tk-3",
      status: "active",
      barcode: "b",
      customer: { email: "e@example.com", phone: "+10000000000" },
      event_id: "ev-1",
      organizer_id: "org-1",
      category: "Stalls",
    };
    expect(readWire(encodePartnerTicket(ticket), { 4: {} })).toEqual({
      1: ["tk-3"],
      2: [1],
      3: ["b"],
      4: [{ 1: ["e@example.com"], 2: ["+10000000000"] }],
      5: ["ev-1"],
      6: ["org-1"],
      11: ["Stalls"],
    });
  });

  it("Event: every field, the venue nested with double coordinates, the offset as timezone; no status, group or venue id", () => {
    expect(readWire(encodePartnerEvent(fullEvent), { 10: {} })).toEqual({
      1: ["ev-1"],
      2: ["Night of jazz"],
      3: [3], // Category.CONCERT
      4: [JAN_2026],
      5: [JAN_2026 + 3 * 3600_000],
      6: ["org-1"],
      7: ["https://cdn.example.com/jazz.jpg"],
      8: ["+03:00"],
      9: ["Three hours of jazz"],
      10: [
        {
          1: ["Main hall"],
          2: ["Tverskaya 1"],
          3: ["Second floor"],
          4: ["125009"],
          5: ["Moscow"],
          6: [55.757718],
          7: [-37.611347],
        },
      ],
    });
  });

  it("Event: a relay may send the IANA zone as timezone instead", () => {
    expect(readWire(encodePartnerEvent(fullEvent, { timezone: "Europe/Moscow" }), { 10: {} })[8]).toEqual(["Europe/Moscow"]);
  });

  it("Event: absent optional fields (start, media, description, venue) are not on the wire", () => {
    expect(readWire(encodePartnerEvent(minimalEvent))).toEqual({
      1: ["ev-2"],
      2: ["Open date"],
      3: [17], // Category.OTHER
      5: [JAN_2026],
      6: ["org-2"],
      8: ["-05:30"],
    });
  });

  it.each([
    ["ballet", 1],
    ["business", 2],
    ["concert", 3],
    ["development", 4],
    ["excursion", 5],
    ["exhibition", 6],
    ["festival", 7],
    ["health", 8],
    ["kids", 9],
    ["movie", 10],
    ["museum", 11],
    ["party", 12],
    ["show", 13],
    ["sport", 14],
    ["test", 15],
    ["theater", 16],
    ["other", 17],
    ["circus", 17],
    ["games", 17],
    ["musical", 17],
    ["standup", 17],
    ["workshop", 17],
  ])("Event.category %s is %d", (category, value) => {
    expect(readWire(encodePartnerEvent({ ...minimalEvent, category }))[3]).toEqual([value]);
  });

  it("Organizer: every field, legals nested", () => {
    const bytes = encodePartnerOrganizer({
      id: "org-1",
      name: "Jazz Club",
      legals: { name: "Jazz Club LLC", type: "ru_ltd", inn: "7701234567", ogrn: "1027700000001", address: "Moscow, Tverskaya 1" },
    });
    expect(readWire(bytes, { 3: {} })).toEqual({
      1: ["org-1"],
      2: ["Jazz Club"],
      3: [{ 1: ["Jazz Club LLC"], 2: [2], 3: ["7701234567"], 4: ["1027700000001"], 5: ["Moscow, Tverskaya 1"] }], // LegalType.RU_LTD
    });
  });

  it.each([
    ["ru_lp", 1],
    ["ru_ltd", 2],
    ["en_ltd", 3],
  ] as const)("Organizer.legals.type %s is %d; absent legal details are not on the wire", (type, value) => {
    expect(readWire(encodePartnerOrganizer({ id: "o", name: "n", legals: { name: "L", type } }), { 3: {} })[3]).toEqual([
      { 1: ["L"], 2: [value] },
    ]);
  });

  it("Organizer without legals", () => {
    expect(readWire(encodePartnerOrganizer({ id: "org-1", name: "Jazz Club" }))).toEqual({ 1: ["org-1"], 2: ["Jazz Club"] });
  });

  it("Order: ids from the context, the customer's names joined, repeated tickets with their own numbers; no order number", () => {
    const bytes = encodePartnerOrder(order, { eventId: "ev-1", organizerId: "org-1" });
    expect(readWire(bytes, { 4: {}, 5: {} })).toEqual({
      1: ["ord-1"],
      2: ["ev-1"],
      3: ["org-1"],
      4: [{ 1: ["ann@example.com"], 2: ["+79001234567"], 3: ["Ann Lee"] }],
      5: [
        {
          1: ["tk-1"],
          2: ["4600000000017"],
          3: ["000123"],
          4: ["AB"],
          5: ["12"],
          6: ["7"],
          7: ["Stalls"],
          8: ["Entrance B"],
          9: [BIG_PRICE],
          10: [3], // Currency.RUB
        },
        { 1: ["tk-2"], 2: ["4600000000024"], 7: ["Dance floor"] },
      ],
    });
  });

  it.each([
    [{ first_name: "Ann" }, ["Ann"]],
    [{ last_name: "Lee" }, ["Lee"]],
    [{}, undefined],
  ])("Order.customer.name from %p", (names, name) => {
    const customer = { email: "e@example.com", phone: "+10000000000", ...names };
    const bytes = encodePartnerOrder({ ...order, customer }, { eventId: "ev-1", organizerId: "org-1" });
    expect(readWire(bytes, { 4: {}, 5: {} })[4]).toEqual([
      { 1: ["e@example.com"], 2: ["+10000000000"], ...(name && { 3: name }) },
    ]);
  });

  it.each([
    ["USD", 1],
    ["EUR", 2],
    ["RUB", 3],
    ["GBP", 4],
    ["CNY", 5],
  ] as const)("Currency %s is %d", (currency, value) => {
    const ticket = { ...order.tickets[1], currency };
    const bytes = encodePartnerOrder({ ...order, tickets: [ticket] }, { eventId: "ev-1", organizerId: "org-1" });
    expect((readWire(bytes, { 4: {}, 5: {} })[5][0] as Fields)[10]).toEqual([value]);
  });

  it("Refund: the ticket ids, repeated; the customer is not in the protobuf shape", () => {
    const bytes = encodePartnerRefund({ customer: order.customer, ticket_ids: ["tk-1", "tk-2", "tk-3"] });
    expect(readWire(bytes)).toEqual({ 1: ["tk-1", "tk-2", "tk-3"] });
  });

  it("encodePartnerMessage picks the topic's message and takes an order's ids and an event's zone from the context", () => {
    const context = { eventId: "ev-1", organizerId: "org-1", timezone: "Europe/Moscow" };
    expect(encodePartnerMessage("orders", order, context)).toEqual(encodePartnerOrder(order, context));
    expect(encodePartnerMessage("events", fullEvent, context)).toEqual(
      encodePartnerEvent(fullEvent, { timezone: "Europe/Moscow" }),
    );
    expect(encodePartnerMessage("tickets", fullTicket)).toEqual(encodePartnerTicket(fullTicket));
    expect(() => encodePartnerMessage("orders", order)).toThrow(/eventId and organizerId/);
    expect(() => encodePartnerMessage("music" as never, {} as never)).toThrow(/no protobuf schema for "music"/);
  });

  it("refuses what the contract cannot carry, naming the field", () => {
    expect(() => encodePartnerTicket({ ...fullTicket, price_nominal: 10.5 })).toThrow(/invalid Ticket: price_nominal: integer/);
    expect(() => encodePartnerTicket({ ...fullTicket, status: "lost" as never })).toThrow(/Ticket.status: "lost"/);
    expect(() => encodePartnerTicket({ ...fullTicket, currency: "JPY" as never })).toThrow(/Ticket.currency: "JPY"/);
    expect(() => encodePartnerEvent({ ...fullEvent, category: "opera" })).toThrow(/Event.category: "opera"/);
    expect(() => encodePartnerEvent({ ...fullEvent, venue: { ...fullEvent.venue!, lat: "55.7" as never } })).toThrow(
      /venue.lat: number/,
    );
    expect(() => encodePartnerOrder(order, { eventId: "ev-9", organizerId: "org-1" })).toThrow(
      /tickets\[0\].event_id "ev-1" is not the order's event "ev-9"/,
    );
  });
});

// ---- Inbound: the provider's messages ----

describe("provider messages built by an independent writer", () => {
  it("Partner: known fields decoded, unknown ones ignored, the oneof member that is there", () => {
    const bytes = bytesOf(
      wire.string(1, "p-1"),
      ...UNKNOWN,
      wire.string(2, "Jazz Club"),
      wire.string(3, "organizer"),
      wire.string(4, "Concerts since 1990"),
      wire.varint(5, 1),
      wire.varint(7, true),
      wire.string(8, "manager@example.com"), // unknown here: the provider's manager field
      wire.timestamp(12, 1767000000, 250_000_000),
      wire.message(
        40,
        wire.string(1, "IP Ivanov"),
        wire.string(2, "Moscow"),
        wire.string(3, "770100000000"),
        wire.string(7, "304770000000012"),
        wire.varint(99, 1),
      ),
    );
    expect(decodeProviderPartner(bytes)).toEqual<ProviderPartner>({
      id: "p-1",
      name: "Jazz Club",
      role: "organizer",
      desc: "Concerts since 1990",
      status: "APPROVED",
      hidden: true,
      updated_at: 1767000000250,
      legal: { name: "IP Ivanov", address: "Moscow", inn: "770100000000", ogrnip: "304770000000012" },
    });
  });

  it("Partner: absent fields read as proto3 defaults, an absent message is left out", () => {
    expect(decodeProviderPartner(bytesOf(wire.string(1, "p-2"), ...UNKNOWN))).toEqual<ProviderPartner>({
      id: "p-2",
      name: "",
      role: "",
      desc: "",
      status: "NEW",
      hidden: false,
    });
  });

  it("Event: timestamps in milliseconds, repeated artists and ticket sets, media; unknown fields ignored at every level", () => {
    const bytes = bytesOf(
      wire.string(1, "e-1"),
      wire.string(2, "meta-1"),
      wire.string(3, "Night of jazz"),
      wire.string(4, "Three hours"),
      wire.varint(5, 1),
      wire.string(6, "p-1"),
      wire.string(7, "venue-1"),
      wire.string(8, "map-1"), // unknown here: the hall map
      wire.message(9, wire.timestamp(1, 1767294000, 500_000_000), wire.timestamp(2, 1767304800)),
      wire.string(10, "concerts"),
      wire.string(12, "artist-1"),
      wire.string(12, "artist-2"),
      wire.message(14, wire.string(1, "c.jpg"), wire.string(2, "cs.jpg"), wire.string(3, "co.jpg")),
      wire.varint(15, true),
      wire.message(
        30,
        wire.string(1, "set-1"),
        wire.string(2, "Stalls"),
        wire.string(3, "Seated"),
        wire.varint(4, 2),
        wire.string(5, "sector-1"),
        wire.varint(6, true),
        wire.varint(7, 300),
        wire.message(10, wire.string(1, "rule-1"), wire.varint(2, 0), wire.message(10, wire.varint(1, 250000))),
        wire.message(10, wire.string(1, "rule-2"), wire.message(3, wire.timestamp(1, 1767294000))),
        wire.varint(40, true),
      ),
      wire.message(30, wire.string(1, "set-2"), wire.varint(7, 50)),
      wire.varint(31, 350),
      wire.timestamp(51, 1767000000, 1_000_000),
      ...UNKNOWN,
    );
    expect(decodeProviderEvent(bytes)).toEqual<ProviderEvent>({
      id: "e-1",
      meta: "meta-1",
      name: "Night of jazz",
      description: "Three hours",
      status: "PUBLIC",
      org: "p-1",
      venue: "venue-1",
      lifetime: { start: 1767294000500, finish: 1767304800000 },
      category: "concerts",
      artists: ["artist-1", "artist-2"],
      media: { cover: "c.jpg", cover_small: "cs.jpg", cover_original: "co.jpg" },
      open_date: true,
      sets: [
        {
          id: "set-1",
          name: "Stalls",
          description: "Seated",
          pos: 2,
          sector: "sector-1",
          with_seats: true,
          amount: 300,
          rules: [
            { id: "rule-1", simple: { price: 250000 } },
            { id: "rule-2", lifetime: { start: 1767294000000 } },
          ],
          removed: true,
        },
        { id: "set-2", name: "", description: "", pos: 0, sector: "", with_seats: false, amount: 50, rules: [], removed: false },
      ],
      tickets_amount: 350,
      updated_at: 1767000000001,
    });
  });

  it("Order: int64 number and money, timestamps, the customer in settings, tickets with seats", () => {
    const bytes = bytesOf(
      wire.string(1, "o-1"),
      wire.varint(2, 2 ** 40 + 1),
      wire.varint(3, 1), // unknown here: origin
      wire.varint(4, 2),
      wire.string(7, "e-1"),
      wire.string(8, "p-1"),
      wire.timestamp(12, 1767000000),
      wire.timestamp(14, 1767000060, 250_000_000),
      wire.message(
        20,
        wire.message(
          1,
          wire.string(1, "u-1"),
          wire.string(2, "Ann Lee"),
          wire.string(3, "ann@example.com"),
          wire.string(4, "+79001234567"),
          wire.string(5, "ru"),
          wire.string(6, "sess"),
        ),
        wire.varint(2, true), // unknown here: invitation
      ),
      wire.message(
        33,
        wire.string(1, "t-1"),
        wire.string(3, "AB"),
        wire.varint(4, 123),
        wire.string(5, "460001"),
        wire.string(6, "set-1"),
        wire.string(7, "sector-1"),
        wire.message(8, wire.string(1, "12"), wire.string(2, "7")),
        wire.varint(10, BIG_PRICE),
        wire.varint(11, 150000),
        wire.varint(13, 165000),
      ),
      wire.message(33, wire.string(1, "t-2")),
      ...UNKNOWN,
    );
    expect(decodeProviderOrder(bytes)).toEqual<ProviderOrder>({
      id: "o-1",
      number: 2 ** 40 + 1,
      status: "DONE",
      event: "e-1",
      org: "p-1",
      created_at: 1767000000000,
      done_at: 1767000060250,
      settings: { customer: { user: "u-1", name: "Ann Lee", email: "ann@example.com", phone: "+79001234567", lang: "ru" } },
      tickets: [
        {
          id: "t-1",
          serial: "AB",
          number: 123,
          barcode: "460001",
          set: "set-1",
          sector: "sector-1",
          seat: { row: "12", number: "7" },
          price: BIG_PRICE,
          nominal: 150000,
        },
        { id: "t-2", serial: "", number: 0, barcode: "", set: "", sector: "", price: 0, nominal: 0 },
      ],
    });
  });

  it("RefundRequest: status, order, repeated tickets, event and organizer", () => {
    const bytes = bytesOf(
      wire.string(1, "r-1"),
      wire.varint(2, 2),
      wire.string(4, "p-1"), // unknown here: partner
      wire.string(7, "o-1"),
      wire.message(24, wire.string(1, "t-1"), wire.varint(10, 165000), wire.varint(11, 150000), wire.varint(13, 170000)),
      wire.message(24, wire.string(1, "t-2"), wire.varint(10, 0), wire.varint(11, 150000)),
      wire.string(40, "e-1"),
      wire.string(41, "p-1"),
      ...UNKNOWN,
    );
    expect(decodeProviderRefundRequest(bytes)).toEqual<ProviderRefundRequest>({
      id: "r-1",
      status: "APPROVED",
      order: "o-1",
      tickets: [
        { id: "t-1", price: 165000, nominal: 150000 },
        { id: "t-2", price: 0, nominal: 150000 },
      ],
      event: "e-1",
      org: "p-1",
    });
  });

  it.each([
    ["a length beyond the end", bytesOf([0x0a, 0x05, 0x61])],
    ["a truncated varint", bytesOf([0x10, 0xff])],
    ["an invalid wire type", bytesOf([0x0f])],
    ["text", Uint8Array.from(Buffer.from('{"id":"r-1","status":"APPROVED"}'))],
  ])("bytes with %s are refused with a ProtoDecodeError naming the message", (_case, bytes) => {
    expect(() => decodeProviderRefundRequest(bytes)).toThrow(ProtoDecodeError);
    expect(() => decodeProviderRefundRequest(bytes)).toThrow(/^undecodable RefundRequest: /);
  });

  it("an enum value the schema does not know, or an integer beyond 2^53, is refused naming the field", () => {
    expect(() => decodeProviderRefundRequest(bytesOf(wire.varint(2, 9)))).toThrow(/RefundRequest.status: unknown Status value 9/);
    expect(() => decodeProviderOrder(bytesOf(wire.message(33, wire.varint(10, 2n ** 60n))))).toThrow(
      /Order.tickets\[0\].price: .* does not fit/,
    );
  });

  it("the provider encoders write what the decoders read", () => {
    const partner: ProviderPartner = {
      id: "p-1",
      name: "n",
      role: "organizer",
      desc: "d",
      status: "BOT",
      hidden: true,
      updated_at: 1767294000555,
      legal: { name: "L", address: "A", inn: "1", ogrn: "2" },
    };
    const event: ProviderEvent = {
      ...decodeProviderEvent(new Uint8Array()),
      id: "e-1",
      status: "CANCELED",
      lifetime: { start: 1767294000123 },
      artists: ["a"],
      sets: [
        {
          id: "s",
          name: "",
          description: "",
          pos: -1,
          sector: "",
          with_seats: true,
          amount: 5,
          rules: [{ id: "r", simple: { price: 100 } }],
          removed: false,
        },
      ],
      updated_at: 1767294000999,
    };
    const order: ProviderOrder = {
      ...decodeProviderOrder(new Uint8Array()),
      id: "o-1",
      number: 42,
      status: "EXPIRED",
      created_at: 1,
      settings: {},
      tickets: [
        {
          id: "t",
          serial: "s",
          number: 1,
          barcode: "b",
          set: "x",
          sector: "",
          seat: { row: "1", number: "2" },
          price: 3,
          nominal: 4,
        },
      ],
    };
    const refund: ProviderRefundRequest = {
      id: "r",
      status: "REJECTED",
      order: "o",
      tickets: [{ id: "t", price: 1, nominal: 2 }],
      event: "e",
      org: "p",
    };
    expect(decodeProviderPartner(encodeProviderPartner(partner))).toEqual(partner);
    expect(decodeProviderEvent(encodeProviderEvent(event))).toEqual(event);
    expect(decodeProviderOrder(encodeProviderOrder(order))).toEqual(order);
    expect(decodeProviderRefundRequest(encodeProviderRefundRequest(refund))).toEqual(refund);
    expect(() => encodeProviderEvent({ status: "LIVE" as never })).toThrow(/Event.status: "LIVE" is not a value of EventStatus/);
    expect(() => encodeProviderPartner({ legal: { ogrn: "1", ogrnip: "2" } })).toThrow(
      /invalid Partner: legal.ogrns: multiple values/,
    );
  });
});
