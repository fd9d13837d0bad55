import type { Actor } from "../../../lib/domain/actor";
import { eventDecider } from "../../../services/events/events.decider";
import {
  eventStream,
  type AddTicketCategory,
  type CreateEvent,
  type EventCommand,
  type EventStatus,
  type EventStreamEvent,
  type UpdateEvent,
  type UpdateTicketCategory,
} from "../../../services/events/events.types";
import type { VenueSnapshot } from "../../../services/venues/venues.types";
import { DAY, NOW, admin, customer, given, organizerA, organizerB, refusal, when } from "./fixtures";

const seatIds = ["1", "2"].flatMap((row) => ["1", "2", "3", "4", "5"].map((seat) => `hall:${row}:${seat}`));
const hall: VenueSnapshot = {
  id: "hall",
  name: "Зал Чайковского",
  address: "Москва, Триумфальная пл., 4/31",
  city: "Москва",
  timezone: "Europe/Moscow",
  capacity: 10,
  seatIds,
  lat: 55.7699,
  lon: 37.5953,
};
const club: VenueSnapshot = {
  id: "club",
  name: "Aurora Concert Hall",
  address: "Санкт-Петербург, Пироговская наб., 5/2",
  city: "Санкт-Петербург",
  timezone: "Europe/Moscow",
  capacity: 100,
  seatIds: [],
};
const STARTS = "2030-03-01T19:00:00+03:00";
const STARTS_AT = Date.UTC(2030, 2, 1, 16);
const ENDS_AT = STARTS_AT + 3 * 60 * 60 * 1000;

function create(fields: Partial<CreateEvent> = {}): CreateEvent {
  return {
    type: "CreateEvent",
    actor: organizerA,
    at: NOW,
    id: "ev1",
    organizerId: "org-a",
    organizer: { id: "org-a", name: "Org A" },
    venueId: "hall",
    venue: hall,
    artists: [{ id: "zemfira", name: "Земфира" }],
    name: "Земфира. Бесконечность",
    category: "concert",
    startsAt: STARTS,
    endsAt: "2030-03-01T22:00:00+03:00",
    ...fields,
  };
}

const created: EventStreamEvent[] = when(eventDecider, [], create());

function add(categoryId: string, fields: Partial<AddTicketCategory> = {}): AddTicketCategory {
  return {
    type: "AddTicketCategory",
    actor: organizerA,
    at: NOW,
    id: "ev1",
    categoryId,
    name: `Category ${categoryId}`,
    price: 500000,
    currency: "RUB",
    kind: "ga",
    quota: 2,
    ...fields,
  } as AddTicketCategory;
}

function seated(categoryId: string, seats: string[], fields: Partial<AddTicketCategory> = {}): AddTicketCategory {
  return { ...add(categoryId, fields), kind: "seated", seats } as AddTicketCategory;
}

function updateCategory(categoryId: string, fields: Partial<UpdateTicketCategory> = {}): UpdateTicketCategory {
  return { type: "UpdateTicketCategory", actor: organizerA, at: NOW, id: "ev1", categoryId, ...fields };
}

function update(fields: Partial<UpdateEvent> = {}): UpdateEvent {
  return { type: "UpdateEvent", actor: organizerA, at: NOW, id: "ev1", ...fields };
}

/** Applies commands one after another, as the service would, and returns the whole history. */
function history(...commands: EventCommand[]): EventStreamEvent[] {
  return commands.reduce<EventStreamEvent[]>((events, command) => [...events, ...when(eventDecider, events, command)], []);
}

const lifecycle = (type: "PublishEvent" | "PauseEvent" | "FinishEvent", actor: Actor = organizerA, at = NOW): EventCommand => ({
  type,
  actor,
  at,
  id: "ev1",
});
const cancel = (actor: Actor = organizerA): EventCommand => ({
  type: "CancelEvent",
  actor,
  at: NOW,
  id: "ev1",
  reason: "artist ill",
});

/** A history that leaves the event in the given status (with one GA category). */
function inStatus(status: EventStatus): EventStreamEvent[] {
  const base = history(create(), add("ga"));
  const publish = when(eventDecider, base, lifecycle("PublishEvent"));
  const steps: Record<EventStatus, EventStreamEvent[]> = {
    draft: [],
    on_sale: publish,
    paused: [...publish, { type: "EventPaused", data: { id: "ev1" } }],
    cancelled: [{ type: "EventCancelled", data: { id: "ev1", reason: "artist ill" } }],
    finished: [...publish, { type: "EventFinished", data: { id: "ev1" } }],
  };
  return [...base, ...steps[status]];
}

describe("event decider", () => {
  it("names its stream event-<id>", () => {
    expect(eventStream("ev1")).toBe("event-ev1");
  });

  describe("create", () => {
    it("stores epoch ms, the venue's time zone and the snapshots it was given", () => {
      expect(created).toEqual([
        {
          type: "EventCreated",
          data: {
            id: "ev1",
            organizerId: "org-a",
            organizer: { id: "org-a", name: "Org A" },
            venue: hall,
            artists: [{ id: "zemfira", name: "Земфира" }],
            name: "Земфира. Бесконечность",
            category: "concert",
            startsAt: STARTS_AT,
            endsAt: ENDS_AT,
            timezone: "Europe/Moscow",
          },
        },
      ]);
      expect(given(eventDecider, created)?.status).toBe("draft");
    });

    it("accepts epoch ms, another time zone, a series and an https image", () => {
      const data = when(
        eventDecider,
        [],
        create({
          startsAt: STARTS_AT,
          endsAt: ENDS_AT,
          timezone: "Asia/Yekaterinburg",
          seriesId: "tour-2030",
          mediaUrl: "https://img.example/z.jpg",
        }),
      )[0].data;
      expect(data).toMatchObject({ startsAt: STARTS_AT, timezone: "Asia/Yekaterinburg", seriesId: "tour-2030" });
    });

    it("answers NOT_FOUND for a missing organizer, venue or artist", () => {
      const cases: Array<[Partial<CreateEvent>, string]> = [
        [{ organizer: null }, "org-a"],
        [{ venue: null }, "hall"],
        [{ artists: [{ id: "ghost", missing: true }] }, "ghost"],
      ];
      for (const [fields, id] of cases) {
        const err = refusal(() => when(eventDecider, [], create(fields)));
        expect([err.type, err.status, err.data]).toEqual(["NOT_FOUND", 404, { id }]);
      }
    });

    it("lets an organizer create events of its own organizer only", () => {
      expect(refusal(() => when(eventDecider, [], create({ actor: organizerB }))).type).toBe("FORBIDDEN");
      expect(refusal(() => when(eventDecider, [], create({ actor: customer }))).type).toBe("FORBIDDEN");
      expect(when(eventDecider, [], create({ actor: admin }))).toHaveLength(1);
      expect(refusal(() => when(eventDecider, created, create())).type).toBe("ALREADY_EXISTS");
    });

    it("validates every field and names it", () => {
      const cases: Array<[Partial<CreateEvent>, string]> = [
        [{ name: "" }, "name"],
        [{ category: "opera" as CreateEvent["category"] }, "category"],
        [{ startsAt: "2030-03-01T19:00:00" }, "startsAt"],
        [{ startsAt: "2029-12-31T19:00:00+03:00" }, "startsAt"],
        [{ endsAt: STARTS }, "endsAt"],
        [{ timezone: "MSK" }, "timezone"],
        [{ mediaUrl: "http://img.example/z.jpg" }, "mediaUrl"],
        [
          {
            artists: [
              { id: "a", name: "A" },
              { id: "a", name: "A" },
            ],
          },
          "artists",
        ],
      ];
      for (const [fields, field] of cases) {
        const err = refusal(() => when(eventDecider, [], create(fields)));
        expect([err.type, err.status, err.data]).toEqual(["VALIDATION", 400, { field }]);
      }
    });
  });

  describe("update", () => {
    it("carries the changed fields only and appends nothing for a no-op", () => {
      expect(when(eventDecider, created, update({ name: "Земфира", category: "concert", description: "Тур" }))).toEqual([
        { type: "EventUpdated", data: { id: "ev1", name: "Земфира", description: "Тур" } },
      ]);
      const same = update({ name: "Земфира. Бесконечность ", startsAt: STARTS_AT, venueId: "hall", venue: hall, seriesId: null });
      expect(when(eventDecider, created, same)).toEqual([]);
      expect(when(eventDecider, created, update({ artists: [{ id: "zemfira", name: "Zemfira" }] }))).toEqual([]);
    });

    it("clears optional fields with null", () => {
      const events = history(
        create({ description: "Тур", mediaUrl: "https://img.example/z.jpg" }),
        update({ description: null, mediaUrl: null }),
      );
      expect(events[1]).toEqual({ type: "EventUpdated", data: { id: "ev1", description: null, mediaUrl: null } });
      const state = given(eventDecider, events);
      expect(state).not.toHaveProperty("description");
      expect(state).not.toHaveProperty("mediaUrl");
    });

    it("refuses organizer B editing organizer A's event, and lets an admin", () => {
      const err = refusal(() => when(eventDecider, created, update({ actor: organizerB, name: "Mine" })));
      expect([err.type, err.status]).toEqual(["FORBIDDEN", 403]);
      expect(refusal(() => when(eventDecider, created, update({ actor: customer, name: "Mine" }))).type).toBe("FORBIDDEN");
      expect(when(eventDecider, created, update({ actor: admin, name: "Renamed" }))).toHaveLength(1);
      expect(refusal(() => when(eventDecider, [], update({ name: "x" }))).type).toBe("NOT_FOUND");
    });

    it("refuses a new start in the past or an end before the start", () => {
      expect(refusal(() => when(eventDecider, created, update({ startsAt: NOW - DAY }))).data).toEqual({ field: "startsAt" });
      expect(refusal(() => when(eventDecider, created, update({ endsAt: STARTS_AT - 1 }))).data).toEqual({ field: "endsAt" });
      // An event under way can still be extended: only a changed start must lie ahead.
      expect(when(eventDecider, created, { ...update({ endsAt: ENDS_AT + 3600_000 }), at: STARTS_AT + 1 })).toHaveLength(1);
    });

    it("moves to another venue only if the ticket categories fit, and takes its time zone", () => {
      const withSeats = history(create(), seated("stalls", ["hall:1:1", "hall:1:2"]));
      const err = refusal(() => when(eventDecider, withSeats, update({ venueId: "club", venue: club })));
      expect([err.type, err.status]).toEqual(["VENUE_INCOMPATIBLE", 409]);
      const ekb = { ...club, timezone: "Asia/Yekaterinburg" };
      expect(when(eventDecider, created, update({ venueId: "club", venue: ekb }))[0].data).toEqual({
        id: "ev1",
        timezone: "Asia/Yekaterinburg",
        venue: ekb,
      });
      expect(refusal(() => when(eventDecider, created, update({ venueId: "gone", venue: null }))).type).toBe("NOT_FOUND");
    });
  });

  describe("ticket categories", () => {
    it("adds general admission and seated categories", () => {
      const events = history(create(), add("ga", { quota: 3 }), seated("vip", ["hall:1:1", "hall:1:2"]));
      expect(given(eventDecider, events)?.categories).toEqual([
        { id: "ga", name: "Category ga", price: 500000, currency: "RUB", kind: "ga", quota: 3 },
        { id: "vip", name: "Category vip", price: 500000, currency: "RUB", kind: "seated", seats: ["hall:1:1", "hall:1:2"] },
      ]);
    });

    it("gives a seat to one category only", () => {
      const events = history(create(), seated("vip", ["hall:1:1", "hall:1:2"]));
      const err = refusal(() => when(eventDecider, events, seated("stalls", ["hall:1:2", "hall:1:3"])));
      expect([err.type, err.status, err.data]).toEqual(["SEAT_CONFLICT", 409, { seats: ["hall:1:2"], categoryIds: ["vip"] }]);
    });

    it("refuses seats the venue does not have, and a seat listed twice", () => {
      expect(refusal(() => when(eventDecider, created, seated("vip", ["hall:9:9"]))).data).toEqual({
        field: "seats",
        unknownSeats: ["hall:9:9"],
      });
      expect(refusal(() => when(eventDecider, created, seated("vip", ["hall:1:1", "hall:1:1"]))).data).toEqual({
        field: "seats",
      });
    });

    it("keeps general admission plus seats within the venue's capacity", () => {
      const events = history(create(), seated("vip", seatIds.slice(0, 6)), add("ga", { quota: 3 }));
      const err = refusal(() => when(eventDecider, events, add("more", { quota: 2 })));
      expect([err.type, err.data]).toEqual(["CAPACITY_EXCEEDED", { capacity: 10, allocated: 9, requested: 2 }]);
      expect(when(eventDecider, events, add("more", { quota: 1 }))).toHaveLength(1);
      expect(refusal(() => when(eventDecider, events, updateCategory("ga", { quota: 5 }))).type).toBe("CAPACITY_EXCEEDED");
    });

    it("uses one currency per event, unique names, unique ids and integer prices", () => {
      const events = history(create(), add("ga"));
      expect(refusal(() => when(eventDecider, events, add("usd", { currency: "USD" }))).type).toBe("CURRENCY_MISMATCH");
      expect(refusal(() => when(eventDecider, events, add("ga2", { name: "category GA" }))).type).toBe("CATEGORY_NAME_TAKEN");
      expect(refusal(() => when(eventDecider, events, add("ga"))).type).toBe("CATEGORY_EXISTS");
      expect(refusal(() => when(eventDecider, events, add("x", { price: 99.5 }))).data).toEqual({ field: "price" });
      expect(
        refusal(() => when(eventDecider, events, add("x", { currency: "JPY" as AddTicketCategory["currency"] }))).data,
      ).toEqual({
        field: "currency",
      });
      expect(refusal(() => when(eventDecider, events, add("x", { quota: 0 }))).data).toEqual({ field: "quota" });
    });

    describe("with tickets sold", () => {
      const events = history(create(), add("ga", { quota: 4 }), seated("vip", ["hall:1:1", "hall:1:2"], { name: "VIP" }));
      const sold = { ga: 1, vip: 1 };

      it("refuses a price change, and allows it while nothing is sold", () => {
        const err = refusal(() => when(eventDecider, events, updateCategory("ga", { price: 600000, sold })));
        expect([err.type, err.status, err.data]).toEqual(["CATEGORY_SOLD", 409, { categoryId: "ga", sold: 1 }]);
        expect(when(eventDecider, events, updateCategory("ga", { price: 600000, sold: { vip: 1 } }))).toEqual([
          { type: "TicketCategoryUpdated", data: { id: "ev1", categoryId: "ga", price: 600000 } },
        ]);
      });

      it("refuses a smaller quota or fewer seats, and allows more", () => {
        expect(refusal(() => when(eventDecider, events, updateCategory("ga", { quota: 3, sold }))).type).toBe("CATEGORY_SOLD");
        expect(refusal(() => when(eventDecider, events, updateCategory("vip", { seats: ["hall:1:1"], sold }))).type).toBe(
          "CATEGORY_SOLD",
        );
        expect(when(eventDecider, events, updateCategory("ga", { quota: 5, sold }))).toHaveLength(1);
        expect(
          when(eventDecider, events, updateCategory("vip", { seats: ["hall:1:1", "hall:1:2", "hall:1:3"], sold })),
        ).toHaveLength(1);
        expect(when(eventDecider, events, updateCategory("ga", { name: "Танцпол", sold }))).toHaveLength(1);
      });

      it("refuses to remove the category, and removes it while nothing is sold", () => {
        const remove = { type: "RemoveTicketCategory" as const, actor: organizerA, at: NOW, id: "ev1", categoryId: "vip" };
        expect(refusal(() => when(eventDecider, events, { ...remove, sold })).type).toBe("CATEGORY_SOLD");
        expect(when(eventDecider, events, remove)).toEqual([
          { type: "TicketCategoryRemoved", data: { id: "ev1", categoryId: "vip" } },
        ]);
      });
    });

    it("appends nothing for an update that changes nothing (seat order does not matter)", () => {
      const events = history(create(), seated("vip", ["hall:1:1", "hall:1:2"], { name: "VIP" }));
      expect(
        when(eventDecider, events, updateCategory("vip", { name: "VIP", price: 500000, seats: ["hall:1:2", "hall:1:1"] })),
      ).toEqual([]);
    });

    it("refuses the allocation field of the other kind", () => {
      const events = history(create(), add("ga"));
      expect(refusal(() => when(eventDecider, events, updateCategory("ga", { seats: ["hall:1:1"] }))).data).toEqual({
        field: "seats",
      });
      expect(refusal(() => when(eventDecider, events, updateCategory("nope", { name: "x" }))).type).toBe("NOT_FOUND");
    });

    it("keeps at least one category on an event that is on sale", () => {
      const remove = { type: "RemoveTicketCategory" as const, actor: organizerA, at: NOW, id: "ev1", categoryId: "ga" };
      expect(refusal(() => when(eventDecider, inStatus("on_sale"), remove)).type).toBe("LAST_CATEGORY");
      expect(when(eventDecider, inStatus("paused"), remove)).toHaveLength(1);
    });
  });

  describe("lifecycle", () => {
    // What each command does in each status: the event it appends, a no-op, or the refusal.
    const table: Record<EventStatus, Record<string, string>> = {
      draft: { publish: "EventPublished", pause: "INVALID_TRANSITION", cancel: "EventCancelled", finish: "INVALID_TRANSITION" },
      on_sale: { publish: "no-op", pause: "EventPaused", cancel: "EventCancelled", finish: "EventFinished" },
      paused: { publish: "EventPublished", pause: "no-op", cancel: "EventCancelled", finish: "EventFinished" },
      cancelled: { publish: "INVALID_TRANSITION", pause: "INVALID_TRANSITION", cancel: "no-op", finish: "INVALID_TRANSITION" },
      finished: { publish: "INVALID_TRANSITION", pause: "INVALID_TRANSITION", cancel: "INVALID_TRANSITION", finish: "no-op" },
    };
    const commands: Record<string, EventCommand> = {
      publish: lifecycle("PublishEvent"),
      pause: lifecycle("PauseEvent"),
      cancel: cancel(),
      finish: lifecycle("FinishEvent", organizerA, ENDS_AT),
    };
    const rows = Object.entries(table).flatMap(([status, row]) =>
      Object.entries(row).map(([command, outcome]) => [status as EventStatus, command, outcome] as const),
    );

    it.each(rows)("%s + %s → %s", (status, command, outcome) => {
      const past = inStatus(status);
      if (outcome === "no-op") return expect(when(eventDecider, past, commands[command])).toEqual([]);
      if (outcome.startsWith("Event")) {
        const events = when(eventDecider, past, commands[command]);
        expect(events.map((e) => e.type)).toEqual([outcome]);
        const next = given(eventDecider, [...past, ...events])?.status;
        expect(next).toBe(
          { EventPublished: "on_sale", EventPaused: "paused", EventCancelled: "cancelled", EventFinished: "finished" }[outcome],
        );
        return;
      }
      const err = refusal(() => when(eventDecider, past, commands[command]));
      expect([err.type, err.status]).toEqual([outcome, 409]);
    });

    it("refuses to publish an event that has started or has no ticket category", () => {
      const late = refusal(() =>
        when(eventDecider, history(create(), add("ga")), lifecycle("PublishEvent", organizerA, STARTS_AT)),
      );
      expect([late.type, late.status, late.data]).toEqual([
        "EVENT_NOT_PUBLISHABLE",
        422,
        { reasons: ["it has already started"] },
      ]);
      const empty = refusal(() => when(eventDecider, created, lifecycle("PublishEvent")));
      expect(empty.data).toEqual({ reasons: ["it has no ticket category"] });
      const paused = inStatus("paused");
      expect(refusal(() => when(eventDecider, paused, lifecycle("PublishEvent", organizerA, STARTS_AT + 1))).type).toBe(
        "EVENT_NOT_PUBLISHABLE",
      );
    });

    it("finishes only after the end, except for an admin", () => {
      const onSale = inStatus("on_sale");
      const early = refusal(() => when(eventDecider, onSale, lifecycle("FinishEvent", organizerA, ENDS_AT - 1)));
      expect([early.type, early.status]).toEqual(["EVENT_NOT_ENDED", 409]);
      expect(when(eventDecider, onSale, lifecycle("FinishEvent", admin, NOW))).toEqual([
        { type: "EventFinished", data: { id: "ev1" } },
      ]);
    });

    it("keeps the cancellation reason", () => {
      const events = when(eventDecider, inStatus("on_sale"), cancel());
      expect(events).toEqual([{ type: "EventCancelled", data: { id: "ev1", reason: "artist ill" } }]);
      const noReason = { type: "CancelEvent" as const, actor: organizerA, at: NOW, id: "ev1", reason: " " };
      expect(refusal(() => when(eventDecider, inStatus("on_sale"), noReason)).data).toEqual({ field: "reason" });
    });

    it("refuses another organizer's lifecycle commands", () => {
      expect(refusal(() => when(eventDecider, inStatus("on_sale"), lifecycle("PauseEvent", organizerB))).type).toBe("FORBIDDEN");
      expect(refusal(() => when(eventDecider, inStatus("on_sale"), cancel(organizerB))).type).toBe("FORBIDDEN");
    });

    it.each(["cancelled", "finished"] as const)("allows no edit at all once %s", (status) => {
      const past = inStatus(status);
      for (const command of [update({ name: "x" }), add("more", { quota: 1 }), updateCategory("ga", { name: "x" })]) {
        const err = refusal(() => when(eventDecider, past, command));
        expect([err.type, err.status]).toEqual(["EVENT_CLOSED", 409]);
      }
    });
  });
});
