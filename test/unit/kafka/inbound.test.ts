import { Errors } from "moleculer";
import { Writer } from "protobufjs";
import { DomainError } from "../../../lib/eventlog/decider";
import {
  encodeProviderEvent,
  encodeProviderOrder,
  encodeProviderPartner,
  encodeProviderRefundRequest,
} from "../../../lib/kafka/provider-proto";
import type { ImportEvent } from "../../../services/events/events.types";
import { eventDecider } from "../../../services/events/events.decider";
import {
  categoryOf,
  InboundRejected,
  inboundCommandId,
  mapInbound,
  normalizePhone,
} from "../../../services/kafka-relay/inbound-mapping";
import { classify } from "../../../services/kafka-relay/partner-inbound";
import { barcodeDecider } from "../../../services/orders/barcode.decider";
import { checkEventAdmits, orderDecider } from "../../../services/orders/orders.decider";
import type { ImportOrder, ImportRefund, OrderCommand, OrderState } from "../../../services/orders/orders.types";
import { organizerDecider } from "../../../services/organizers/organizers.decider";
import type { ImportOrganizer } from "../../../services/organizers/organizers.types";
import { given, refusal, system, when } from "../catalogue/fixtures";

const ctx = {
  partner: "tc",
  inbound: { currency: "RUB" as const, timezone: "Europe/Moscow", categories: { "5a1b": "theater" as const } },
};
const T0 = Date.parse("2030-01-01T12:00:00Z");

function paramsOf(mapped: ReturnType<typeof mapInbound>): unknown {
  if (!("params" in mapped)) throw new Error(`skipped: ${mapped.skip}`);
  return mapped.params;
}

/** Fields the provider sends and our schema does not declare: a string (99) and a varint (150). */
function withUnknownFields(bytes: Buffer): Buffer {
  const extra = Writer.create()
    .uint32((99 << 3) | 2)
    .string("not in our schema")
    .uint32((150 << 3) | 0)
    .uint64(42)
    .finish();
  return Buffer.concat([bytes, Buffer.from(extra)]);
}

describe("inbound mapping: the provider's protobuf messages as our import commands", () => {
  test("a Partner becomes an organizer import; unknown fields are ignored", () => {
    const bytes = encodeProviderPartner({
      id: "p1",
      name: "Vibe Concerts",
      status: "APPROVED",
      legal: { name: "OOO Vibe", inn: "7707083893", ogrn: "1027700132195", address: "Moscow" },
    });
    const expected = {
      action: "organizers.import",
      params: {
        id: "ext-tc-p1",
        source: { partner: "tc", id: "p1" },
        name: "Vibe Concerts",
        legals: { name: "OOO Vibe", inn: "7707083893", ogrn: "1027700132195", address: "Moscow" },
      },
    };
    expect(mapInbound("partners", bytes, ctx)).toEqual(expected);
    expect(mapInbound("partners", withUnknownFields(bytes), ctx)).toEqual(expected);
    // A legal block with nothing in it is no legal details.
    expect(mapInbound("partners", encodeProviderPartner({ id: "p2", name: "X", legal: {} }), ctx)).toEqual({
      action: "organizers.import",
      params: { id: "ext-tc-p2", source: { partner: "tc", id: "p2" }, name: "X" },
    });
  });

  test("a distributor (any status, hidden or not) is no organizer; an organizer carries its version", () => {
    const distributor = encodeProviderPartner({
      id: "d1",
      name: "Tickets Shop",
      role: "distributor",
      status: "NEW",
      hidden: true,
    });
    expect(mapInbound("partners", distributor, ctx)).toEqual({
      skip: "partner d1 is a distributor (status NEW, hidden), not an organizer",
      notable: true,
    });
    const organizer = encodeProviderPartner({
      id: "p1",
      name: "Vibe",
      role: "organizer",
      status: "NEW",
      hidden: true,
      updated_at: T0,
    });
    expect(paramsOf(mapInbound("partners", organizer, ctx))).toEqual({
      id: "ext-tc-p1",
      source: { partner: "tc", id: "p1" },
      updatedAt: T0,
      name: "Vibe",
    });
  });

  test("an Event keeps what the provider says: artists (by id), its category mapped, set prices, sectors", () => {
    const event = (category: string) =>
      paramsOf(
        mapInbound(
          "events",
          encodeProviderEvent({
            id: "e1",
            org: "p1",
            category,
            artists: ["a1", "a2"],
            lifetime: { start: T0, finish: T0 + 1 },
            sets: [
              {
                id: "s1",
                name: "Floor",
                sector: "Parterre",
                amount: 10,
                rules: [
                  { id: "r1", simple: { price: 300000 } },
                  { id: "r2", simple: { price: 250000 } },
                ],
              },
              { id: "s2", name: "Free", amount: 5, rules: [{ id: "r3", simple: { price: 0 } }] },
              { id: "s3", name: "Unpriced", amount: 5 },
            ],
          }),
          ctx,
        ),
      ) as ImportEvent & { artistIds: string[] };
    const mapped = event("5a1b");
    expect(mapped.category).toBe("theater");
    expect(mapped.artistIds).toEqual(["ext-tc-a1", "ext-tc-a2"]);
    expect(mapped.ticketSets).toEqual([
      { id: "s1", name: "Floor", sector: "Parterre", seated: false, amount: 10, price: 250000, currency: "RUB" },
      { id: "s2", name: "Free", seated: false, amount: 5, price: 0, currency: "RUB" },
      { id: "s3", name: "Unpriced", seated: false, amount: 5 },
    ]);
    expect([event("Concert").category, event("ffff").category]).toEqual(["concert", "other"]);
    expect(categoryOf(" 5a1b ", { "5a1b": "theater" })).toBe("theater");
  });

  test("an Event: statuses, lifetime, live ticket sets, category and https cover", () => {
    const bytes = encodeProviderEvent({
      id: "e1",
      meta: "series-1",
      name: "Rock night",
      description: "  ",
      status: "STAND_BY",
      org: "p1",
      venue: "v1",
      lifetime: { start: T0 + 86_400_000, finish: T0 + 90_000_000 },
      category: "Concert",
      media: { cover: "http://img.example/c.jpg", cover_original: "https://img.example/o.jpg" },
      sets: [
        { id: "s1", name: "Dance floor", amount: 300 },
        { id: "s2", name: "", sector: "Balcony", with_seats: true, amount: 40 },
        { id: "s3", name: "Gone", amount: 10, removed: true },
      ],
      updated_at: T0,
    });
    expect(mapInbound("events", bytes, ctx)).toEqual({
      action: "events.import",
      params: {
        id: "ext-tc-e1",
        source: { partner: "tc", id: "e1" },
        updatedAt: T0,
        organizerId: "ext-tc-p1",
        name: "Rock night",
        category: "concert",
        status: "paused",
        startsAt: T0 + 86_400_000,
        endsAt: T0 + 90_000_000,
        timezone: "Europe/Moscow",
        venueId: "ext-tc-v1",
        seriesId: "ext-tc-series-1",
        mediaUrl: "https://img.example/o.jpg",
        ticketSets: [
          { id: "s1", name: "Dance floor", seated: false, amount: 300 },
          { id: "s2", name: "Balcony", sector: "Balcony", seated: true, amount: 40 },
        ],
      },
    });
    const status = (s: "PUBLIC" | "CANCELED" | "FINISHED") =>
      paramsOf(mapInbound("events", encodeProviderEvent({ id: "e", org: "p", status: s, category: "rave" }), ctx)) as ImportEvent;
    expect([status("PUBLIC").status, status("CANCELED").status, status("FINISHED").status]).toEqual([
      "on_sale",
      "cancelled",
      "finished",
    ]);
    expect(status("PUBLIC").category).toBe("other");
  });

  test("an Order: only completed (or cancelled) ones; barcodes upper-case, phone with its +, name split", () => {
    const order = {
      id: "o1",
      number: 1001,
      status: "DONE" as const,
      event: "e1",
      org: "p1",
      created_at: T0,
      settings: { customer: { user: "u1", name: "Ann Lee Smith", email: "ann@example.com", phone: "7 (900) 123-45-67" } },
      tickets: [
        {
          id: "t1",
          serial: "AB",
          number: 7,
          barcode: " 46000abc ",
          set: "s1",
          sector: "Parterre",
          seat: { row: "3", number: "12" },
          price: 150000,
        },
      ],
    };
    expect(mapInbound("orders", encodeProviderOrder(order), ctx)).toEqual({
      action: "orders.importOrder",
      params: {
        id: "ext-tc-o1",
        source: { partner: "tc", id: "o1" },
        status: "done",
        number: "1001",
        eventId: "ext-tc-e1",
        organizerId: "ext-tc-p1",
        customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann", lastName: "Lee Smith" },
        userId: "ext:tc:u1",
        currency: "RUB",
        createdAt: T0,
        tickets: [
          {
            id: "ext-tc-t1",
            barcode: "46000ABC",
            series: "AB",
            number: "7",
            categoryId: "s1",
            sector: "Parterre",
            row: "3",
            seat: "12",
            price: 150000,
          },
        ],
      },
    });
    expect(mapInbound("orders", encodeProviderOrder({ ...order, status: "IN_PROGRESS" }), ctx)).toEqual({
      skip: expect.stringMatching(/o1 is IN_PROGRESS/),
    });
    expect(
      (paramsOf(mapInbound("orders", encodeProviderOrder({ ...order, status: "EXPIRED" }), ctx)) as ImportOrder).status,
    ).toBe("cancelled");
    expect(normalizePhone("")).toBe("");
  });

  test("a RefundRequest: only approved ones", () => {
    const refund = {
      id: "r1",
      status: "APPROVED" as const,
      order: "o1",
      tickets: [{ id: "t1", price: 1 }],
      event: "e1",
      org: "p1",
    };
    expect(mapInbound("refundRequests", encodeProviderRefundRequest(refund), ctx)).toEqual({
      action: "orders.importRefund",
      params: {
        id: "ext-tc-o1",
        refundId: "ext-tc-r1",
        source: { partner: "tc", id: "r1" },
        ticketIds: ["ext-tc-t1"],
        eventId: "ext-tc-e1",
        organizerId: "ext-tc-p1",
      },
    });
    expect(mapInbound("refundRequests", encodeProviderRefundRequest({ ...refund, status: "REJECTED" }), ctx)).toEqual({
      skip: expect.stringMatching(/REJECTED/),
    });
  });

  test.each([
    ["undecodable bytes", "orders", Buffer.from("definitely not protobuf"), /undecodable Order/],
    ["an enum value the schema does not know", "events", Buffer.from([0x28, 0x09]), /Event\.status: unknown EventStatus value 9/],
    ["no id", "partners", encodeProviderPartner({ name: "x" }), /id is missing/],
    ["an id that cannot be ours", "events", encodeProviderEvent({ id: "a/b", org: "p" }), /id "a\/b" must be letters/],
    ["an id too long", "orders", encodeProviderOrder({ id: "x".repeat(60), status: "DONE", event: "e" }), /too long for an id/],
  ])("%s: rejected with the reason", (_what, kind, bytes, reason) => {
    const call = () => mapInbound(kind as "orders", bytes, ctx);
    expect(call).toThrow(InboundRejected);
    expect(call).toThrow(reason);
  });

  test("the command id is the message's: same bytes, same id; another partner or stream, another", () => {
    const bytes = encodeProviderPartner({ id: "p1", name: "X" });
    expect(inboundCommandId("tc", "partners", bytes)).toBe(inboundCommandId("tc", "partners", Buffer.from(bytes)));
    expect(inboundCommandId("tc", "partners", bytes)).not.toBe(inboundCommandId("other", "partners", bytes));
    expect(inboundCommandId("tc", "partners", bytes)).not.toBe(inboundCommandId("tc", "partners", withUnknownFields(bytes)));
  });
});

describe("what the consumer does with a failure", () => {
  test.each([
    ["a rejected message", "permanent", new InboundRejected("undecodable")],
    ["a domain refusal", "permanent", new Errors.MoleculerClientError("name must be 1 to 200 characters", 400, "VALIDATION")],
    ["a parameter the action refuses", "permanent", new Errors.ValidationError("bad", "VALIDATION_ERROR", [])],
    ["an event not there yet", "reference", new Errors.MoleculerClientError("unknown event ext-tc-e1", 422, "UNKNOWN_REFERENCE")],
    ["a service not running", "transient", new Errors.ServiceNotFoundError({ action: "orders.importOrder" })],
    ["a timeout", "transient", new Errors.RequestTimeoutError({ action: "orders.importOrder", nodeID: "n1" })],
    ["a store that is down", "transient", new Error("connection refused")],
  ])("%s → %s", (_what, kind, err) => {
    expect(classify(err).kind).toBe(kind);
  });
});

describe("organizer import", () => {
  const importP1 = (changes: Partial<ImportOrganizer> = {}): ImportOrganizer => ({
    type: "ImportOrganizer",
    actor: system,
    at: T0,
    id: "ext-tc-p1",
    source: { partner: "tc", id: "p1" },
    name: "Vibe",
    legals: { name: "OOO Vibe", inn: "7707083893", ogrn: "1027700132195" },
    ...changes,
  });

  test("created with its source and an inferred legal type; the same again changes nothing; a change replaces it", () => {
    const [created] = when(organizerDecider, [], importP1());
    expect(created).toEqual({
      type: "OrganizerImported",
      data: {
        id: "ext-tc-p1",
        name: "Vibe",
        legals: { name: "OOO Vibe", type: "ru_ltd", inn: "7707083893", ogrn: "1027700132195" },
        source: { partner: "tc", id: "p1" },
      },
    });
    expect(when(organizerDecider, [created], importP1())).toEqual([]);
    expect(when(organizerDecider, [created], importP1({ name: "Vibe Live" }))[0].data).toMatchObject({ name: "Vibe Live" });
    const soleTrader = when(
      organizerDecider,
      [],
      importP1({ legals: { name: "IP Ivanov", inn: "500100732259", ogrnip: "304500116000157" } }),
    );
    expect(soleTrader[0].data).toMatchObject({ legals: { type: "ru_lp", ogrn: "304500116000157" } });
  });

  test("versions as for events: an older updated_at arriving late never overwrites a newer one", () => {
    const [v2] = when(organizerDecider, [], importP1({ name: "Vibe Live", updatedAt: T0 }));
    expect(v2.data).toMatchObject({ name: "Vibe Live", sourceUpdatedAt: T0 });
    expect(when(organizerDecider, [v2], importP1({ name: "Vibe", updatedAt: T0 - 1000 }))).toEqual([]);
    expect(when(organizerDecider, [v2], importP1({ name: "Vibe Arena", updatedAt: T0 + 1000 }))[0].data).toMatchObject({
      name: "Vibe Arena",
      sourceUpdatedAt: T0 + 1000,
    });
    // A message without a version still applies, and keeps the version applied.
    expect(when(organizerDecider, [v2], importP1({ name: "Vibe Club" }))[0].data).toMatchObject({
      name: "Vibe Club",
      sourceUpdatedAt: T0,
    });
  });

  test("refused: an invalid INN (naming the field), our own organizer under that id, our commands on an imported one", () => {
    expect(
      refusal(() => when(organizerDecider, [], importP1({ legals: { name: "X", inn: "7707083890", ogrn: "1027700132195" } })))
        .message,
    ).toMatch(/legals\.inn/);
    const ours = { type: "OrganizerCreated" as const, data: { id: "ext-tc-p1", name: "Ours" } };
    expect(refusal(() => when(organizerDecider, [ours], importP1())).type).toBe("NOT_IMPORTED");
    const [imported] = when(organizerDecider, [], importP1());
    const update = { type: "UpdateOrganizer" as const, actor: system, at: T0, id: "ext-tc-p1", name: "Hijacked" };
    expect(refusal(() => when(organizerDecider, [imported], update)).type).toBe("IMPORTED");
  });
});

describe("event import", () => {
  const importE1 = (changes: Partial<ImportEvent> = {}): ImportEvent => ({
    type: "ImportEvent",
    actor: system,
    at: T0,
    id: "ext-tc-e1",
    source: { partner: "tc", id: "e1" },
    updatedAt: T0 - 1000,
    organizerId: "ext-tc-p1",
    organizer: { id: "ext-tc-p1", name: "Vibe" },
    name: "Rock night",
    category: "concert",
    status: "on_sale",
    startsAt: T0 - 86_400_000, // past events are imported too
    endsAt: T0 - 80_000_000,
    timezone: "Europe/Moscow",
    ticketSets: [{ id: "s1", name: "Floor", seated: false, amount: 300 }],
    ...changes,
  });

  test("an open-date event has no dates (unknown, not invented); one that is not open-dated still needs them", () => {
    const [created] = when(eventDecider, [], importE1({ openDate: true, startsAt: undefined, endsAt: undefined }));
    expect(given(eventDecider, [created])).toMatchObject({ startsAt: null, endsAt: null, status: "on_sale" });
    // Open date with a lifetime: the start is not known; the finish (valid until) is kept.
    const [until] = when(eventDecider, [], importE1({ openDate: true }));
    expect(given(eventDecider, [until])).toMatchObject({ startsAt: null, endsAt: T0 - 80_000_000 });
    expect(refusal(() => when(eventDecider, [], importE1({ startsAt: undefined }))).message).toMatch(
      /lifetime\.start is missing/,
    );
    const mapped = paramsOf(
      mapInbound("events", encodeProviderEvent({ id: "e9", org: "p1", open_date: true, lifetime: { start: T0 } }), ctx),
    ) as ImportEvent;
    expect(mapped).toMatchObject({ openDate: true });
    expect(mapped.startsAt).toBeUndefined();
  });

  test("artists known by id only are kept with an unknown name; a set's price and currency are kept", () => {
    const [created] = when(
      eventDecider,
      [],
      importE1({
        artistIds: ["ext-tc-a1"],
        ticketSets: [{ id: "s1", name: "Floor", seated: false, amount: 300, price: 250000, currency: "RUB" }],
      }),
    );
    expect(given(eventDecider, [created])).toMatchObject({
      artists: [{ id: "ext-tc-a1", name: "" }],
      ticketSets: [{ id: "s1", price: 250000, currency: "RUB" }],
    });
    expect(
      refusal(() =>
        when(eventDecider, [], importE1({ ticketSets: [{ id: "s1", name: "F", seated: false, amount: 1, price: 1.5 }] })),
      ).message,
    ).toMatch(/sets\[0\]\.price/);
  });

  test("mirrored with its source and sets, no categories of ours; repeats and older versions change nothing", () => {
    const [created] = when(eventDecider, [], importE1());
    expect(created.type).toBe("EventImported");
    expect(given(eventDecider, [created])).toMatchObject({
      id: "ext-tc-e1",
      status: "on_sale",
      categories: [],
      source: { partner: "tc", id: "e1" },
      sourceUpdatedAt: T0 - 1000,
      ticketSets: [{ id: "s1", name: "Floor", seated: false, amount: 300 }],
      venue: { id: "", capacity: 300, timezone: "Europe/Moscow" },
    });
    expect(when(eventDecider, [created], importE1())).toEqual([]);
    // The organizer's name alone is the organizer stream's business.
    expect(when(eventDecider, [created], importE1({ organizer: null }))).toEqual([]);
    const cancelled = importE1({ status: "cancelled", updatedAt: T0 });
    const [change] = when(eventDecider, [created], cancelled);
    expect(change.data).toMatchObject({ status: "cancelled", cancelReason: "cancelled by tc", sourceUpdatedAt: T0 });
    // The older version arrives late: no roll-back.
    expect(when(eventDecider, [created, change], importE1({ updatedAt: T0 - 1000, name: "Old name" }))).toEqual([]);
  });

  test("refused: missing or inverted lifetime, our commands on it, overwriting our own event", () => {
    expect(refusal(() => when(eventDecider, [], importE1({ startsAt: undefined }))).message).toMatch(
      /lifetime\.start is missing/,
    );
    expect(refusal(() => when(eventDecider, [], importE1({ endsAt: T0 - 90_000_000 }))).message).toMatch(
      /lifetime\.finish must be after/,
    );
    expect(refusal(() => when(eventDecider, [], importE1({ name: "" }))).message).toMatch(/^name /);
    const [created] = when(eventDecider, [], importE1());
    expect(
      refusal(() => when(eventDecider, [created], { type: "PauseEvent", actor: system, at: T0, id: "ext-tc-e1" })).type,
    ).toBe("IMPORTED");
  });
});

describe("order and refund import", () => {
  const event = {
    id: "ext-tc-e1",
    organizerId: "ext-tc-p1",
    source: { partner: "tc", id: "e1" },
    ticketSets: [{ id: "s1", name: "Floor" }],
  };
  const importO1 = (changes: Partial<ImportOrder> = {}): ImportOrder => ({
    type: "ImportOrder",
    actor: system,
    at: T0,
    id: "ext-tc-o1",
    source: { partner: "tc", id: "o1" },
    status: "done",
    number: "1001",
    eventId: "ext-tc-e1",
    event,
    organizerId: "ext-tc-p1",
    customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
    userId: "ext:tc:u1",
    currency: "RUB",
    tickets: [
      { id: "ext-tc-t1", barcode: "4600000000017", series: "AB", number: "1", categoryId: "s1", price: 150000 },
      { id: "ext-tc-t2", barcode: "4600000000024", series: "AB", number: "2", categoryId: "s9", price: 100000 },
    ],
    createdAt: T0 - 5000,
    ...changes,
  });
  const refund = (changes: Partial<ImportRefund> = {}): ImportRefund => ({
    type: "ImportRefund",
    actor: system,
    at: T0,
    id: "ext-tc-o1",
    refundId: "ext-tc-r1",
    source: { partner: "tc", id: "r1" },
    ticketIds: ["ext-tc-t2"],
    ...changes,
  });
  function run(commands: OrderCommand[], state: OrderState = null): OrderState {
    for (const command of commands) for (const e of orderDecider.decide(command, state)) state = orderDecider.evolve(state, e);
    return state;
  }
  const refused = (command: OrderCommand, state: OrderState) => refusal(() => orderDecider.decide(command, state));

  test("a completed order brings paid tickets once; refunds flip the tickets they name, once; the door refuses them", () => {
    const order = run([importO1()])!;
    expect(order).toMatchObject({
      status: "paid",
      eventId: "ext-tc-e1",
      organizerId: "ext-tc-p1",
      amount: 250000,
      payment: null,
      source: { partner: "tc", id: "o1" },
      tickets: [
        { id: "ext-tc-t1", categoryName: "Floor", status: "active", currency: "RUB" },
        // A set the event does not list (yet) is named by its id.
        { id: "ext-tc-t2", categoryName: "s9", status: "active" },
      ],
    });
    expect(orderDecider.decide(importO1(), order)).toEqual([]);
    const refunded = run([refund()], order)!;
    expect(refunded.status).toBe("partially_refunded");
    expect(refunded.tickets.map((t) => t.status)).toEqual(["active", "refunded"]);
    expect(orderDecider.decide(refund(), refunded)).toEqual([]);
    const checkIn = (ticketId: string): OrderCommand => ({
      type: "CheckInTicket",
      actor: system,
      at: T0,
      id: "ext-tc-o1",
      ticketId,
    });
    expect(refused(checkIn("ext-tc-t2"), refunded).type).toBe("TICKET_NOT_VALID");
    expect(orderDecider.decide(checkIn("ext-tc-t1"), refunded)[0].type).toBe("TicketCheckedIn");
    // Our own refunds would move money we never took.
    const ownRefund: OrderCommand = { type: "RefundTickets", actor: system, at: T0, id: "ext-tc-o1", refundId: "x" };
    expect(refused(ownRefund, refunded).type).toBe("IMPORTED");
  });

  test("a cancelled order voids its valid tickets; a late completion does not bring them back", () => {
    const cancelled = run([importO1(), importO1({ status: "cancelled" })])!;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.tickets.map((t) => t.status)).toEqual(["cancelled", "cancelled"]);
    expect(orderDecider.decide(importO1(), cancelled)).toEqual([]);
    expect(orderDecider.decide(importO1({ status: "cancelled" }), null)).toEqual([]);
  });

  test("inconsistent messages are refused with a reason naming the problem", () => {
    expect(refused(importO1({ event: null }), null)).toMatchObject({
      type: "UNKNOWN_REFERENCE",
      message: "unknown event ext-tc-e1",
    });
    expect(refused(importO1({ event: { ...event, source: undefined } }), null).type).toBe("NOT_IMPORTED");
    expect(refused(importO1({ organizerId: "ext-tc-p2" }), null).message).toMatch(/names organizer ext-tc-p2, but event/);
    expect(refused(importO1({ tickets: [] }), null).message).toMatch(/has no tickets/);
    const [t1] = importO1().tickets;
    expect(refused(importO1({ tickets: [t1, { ...t1, id: "ext-tc-t3" }] }), null).message).toMatch(/barcode 4600000000017 twice/);
    expect(refused(importO1({ tickets: [{ ...t1, barcode: "ab-cd" }] }), null).message).toMatch(/barcode must be 4 to 64/);
    const order = run([importO1()]);
    expect(refused(refund(), null)).toMatchObject({ type: "UNKNOWN_REFERENCE", message: "unknown order ext-tc-o1" });
    expect(refused(refund({ ticketIds: ["ext-tc-t9"] }), order).message).toMatch(/ticket ext-tc-t9 is not in order ext-tc-o1/);
    expect(refused(refund({ eventId: "ext-tc-e2" }), order).message).toMatch(/names event ext-tc-e2/);
  });

  test("a box-office order without an e-mail (or with contact data that is no address) is imported, its contact unknown", () => {
    const boxOffice = run([importO1({ customer: { email: "", phone: "" } })])!;
    expect(boxOffice).toMatchObject({ status: "paid", customer: { email: "", phone: "" } });
    expect(boxOffice.tickets.map((t) => t.status)).toEqual(["active", "active"]);
    const garbled = run([importO1({ customer: { email: "n/a", phone: "box office", firstName: "Ann" } })])!;
    expect(garbled.customer).toEqual({ email: "", phone: "", firstName: "Ann" });
  });

  test("the door refuses tickets of a cancelled event, imported or ours; a ticket keeps the partner's sector", () => {
    const t1 = importO1().tickets[0];
    const order = run([importO1({ tickets: [{ ...t1, sector: "Parterre" }] })])!;
    expect(order.tickets[0].sector).toBe("Parterre");
    const checkIn = (eventStatus?: "cancelled" | "on_sale"): OrderCommand => ({
      type: "CheckInTicket",
      actor: system,
      at: T0,
      id: "ext-tc-o1",
      ticketId: "ext-tc-t1",
      eventStatus,
    });
    const refusedAtDoor = refused(checkIn("cancelled"), order);
    expect([refusedAtDoor.type, refusedAtDoor.message]).toEqual([
      "EVENT_CANCELLED",
      "event ext-tc-e1 was cancelled: its tickets admit no one",
    ]);
    expect(orderDecider.decide(checkIn("on_sale"), order)[0].type).toBe("TicketCheckedIn");
    expect(() => checkEventAdmits("cancelled", "gig")).toThrow(/event gig was cancelled/);
    expect(() => checkEventAdmits("paused", "gig")).not.toThrow();
  });

  test("a refund without tickets refunds every valid one", () => {
    const order = run([importO1(), refund({ ticketIds: [] })])!;
    expect(order.status).toBe("refunded");
    expect(order.refundedAmount).toBe(250000);
  });

  test("a barcode belongs to one ticket: the first claim wins, the same ticket again is no change", () => {
    const claim = { type: "ClaimBarcode" as const, barcode: "4600000000017", ticketId: "ext-tc-t1", orderId: "ext-tc-o1" };
    const claimed = given(barcodeDecider, barcodeDecider.decide(claim, null));
    expect(barcodeDecider.decide(claim, claimed)).toEqual([]);
    const err = refusal(() => barcodeDecider.decide({ ...claim, ticketId: "ext-tc-t7", orderId: "ext-tc-o2" }, claimed));
    expect(err).toBeInstanceOf(DomainError);
    expect(err.message).toBe("barcode 4600000000017 already belongs to ticket ext-tc-t1 of order ext-tc-o1");
  });
});
