/**
 * The partner's JSON event (partner-streams.md section 1): `offset` is a number of hours, as the
 * partner's own TypeScript types and example message have it, computed for the event's own
 * start in its own zone, so daylight saving and half-hour zones come out right.
 */
import { utcOffsetHours } from "../../../lib/domain/time";
import { partnerEvent } from "../../../lib/kafka/partner-json";
import type { CatalogueEvent } from "../../../services/events/events.types";

function event(startsAt: string, timezone: string): CatalogueEvent {
  const at = Date.parse(startsAt);
  return {
    id: "gig",
    organizerId: "org",
    organizer: { id: "org", name: "Org" },
    venue: { id: "club", name: "Club", address: "Arbat 1", city: "Moscow", timezone, capacity: 10, seatIds: [] },
    artists: [],
    name: "Gig",
    category: "concert",
    startsAt: at,
    endsAt: at + 3 * 3600_000,
    timezone,
    status: "on_sale",
    categories: [],
  };
}

describe("the partner's JSON event: offset in hours", () => {
  test.each([
    ["2031-06-01T19:00:00+03:00", "Europe/Moscow", 3],
    ["2031-01-15T19:00:00+05:30", "Asia/Kolkata", 5.5],
    ["2031-01-15T19:00:00+05:45", "Asia/Kathmandu", 5.75],
    // The same zone on both sides of daylight saving: the event's own date decides.
    ["2031-07-15T19:00:00-04:00", "America/New_York", -4],
    ["2031-01-15T19:00:00-05:00", "America/New_York", -5],
    ["2031-01-15T19:00:00-03:30", "America/St_Johns", -3.5],
    ["2031-07-15T19:00:00Z", "UTC", 0],
  ])("an event starting %s in %s has offset %d", (startsAt, zone, hours) => {
    const body = partnerEvent(event(startsAt, zone), null)!;
    expect(body.offset).toBe(hours);
    expect(typeof JSON.parse(JSON.stringify(body)).offset).toBe("number");
    expect(utcOffsetHours(Date.parse(startsAt), zone)).toBe(hours);
  });
});
