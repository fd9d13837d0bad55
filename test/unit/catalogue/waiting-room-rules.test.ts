import type { Actor } from "../../../lib/domain/actor";
import { eventDecider } from "../../../services/events/events.decider";
import type { EventCommand, EventStreamEvent } from "../../../services/events/events.types";
import { NOW, admin, given, organizerA, organizerB, refusal, when } from "./fixtures";

const ENDS_AT = Date.UTC(2030, 2, 1, 19);

const created: EventStreamEvent[] = [
  {
    type: "EventCreated",
    data: {
      id: "ev1",
      organizerId: "org-a",
      organizer: { id: "org-a", name: "Org A" },
      venue: {
        id: "club",
        name: "Club",
        address: "Street 1",
        city: "Moscow",
        timezone: "Europe/Moscow",
        capacity: 100,
        seatIds: [],
      },
      artists: [],
      name: "Gig",
      category: "concert",
      startsAt: ENDS_AT - 3 * 3_600_000,
      endsAt: ENDS_AT,
      timezone: "Europe/Moscow",
    },
  },
];

const configure = (fields: Record<string, unknown> = {}, actor: Actor = organizerA): EventCommand => ({
  type: "ConfigureWaitingRoom",
  actor,
  at: NOW,
  id: "ev1",
  opensAt: "2030-02-01T12:00:00+03:00",
  rate: 100,
  ...fields,
});

describe("waiting room settings on the event", () => {
  test("the organizer (or an admin) turns it on; the event carries it; the same settings again change nothing", () => {
    const events = when(eventDecider, created, configure());
    expect(events).toEqual([
      { type: "WaitingRoomConfigured", data: { id: "ev1", opensAt: Date.parse("2030-02-01T12:00:00+03:00"), rate: 100 } },
    ]);
    const state = given(eventDecider, [...created, ...events]);
    expect(state!.waitingRoom).toEqual({ opensAt: Date.parse("2030-02-01T12:00:00+03:00"), rate: 100 });
    expect(when(eventDecider, [...created, ...events], configure())).toEqual([]);
    expect(when(eventDecider, created, configure({ rate: "auto" }, admin))[0].data).toMatchObject({ rate: "auto" });
  });

  test("another organizer may not", () => {
    expect(refusal(() => when(eventDecider, created, configure({}, organizerB))).type).toBe("FORBIDDEN");
  });

  test("bad settings are refused naming the field", () => {
    for (const rate of [0, -1, 1.5, 10_001, "fast", null]) {
      expect(refusal(() => when(eventDecider, created, configure({ rate }))).data).toMatchObject({ field: "rate" });
    }
    for (const opensAt of ["tomorrow", "2030-02-30T12:00:00+03:00", "2030-03-02T12:00:00+03:00"]) {
      expect(refusal(() => when(eventDecider, created, configure({ opensAt }))).data).toMatchObject({ field: "opensAt" });
    }
  });

  test("removed: null again; removing none is a no-op", () => {
    const on = [...created, ...when(eventDecider, created, configure())];
    const off = when(eventDecider, on, { type: "RemoveWaitingRoom", actor: organizerA, at: NOW, id: "ev1" });
    expect(off).toEqual([{ type: "WaitingRoomRemoved", data: { id: "ev1" } }]);
    expect(given(eventDecider, [...on, ...off])!.waitingRoom).toBeNull();
    expect(when(eventDecider, created, { type: "RemoveWaitingRoom", actor: organizerA, at: NOW, id: "ev1" })).toEqual([]);
  });
});
