import { addressToGeocode, venueDecider, venueSnapshot } from "../../../services/venues/venues.decider";
import {
  venueStream,
  type CreateVenue,
  type RecordGeocode,
  type RecordGeocodeFailure,
  type UpdateVenue,
  type VenueEvent,
  type VenueLayout,
} from "../../../services/venues/venues.types";
import { NOW, admin, given, organizerA, organizerB, refusal, system, when } from "./fixtures";

const layout: VenueLayout = {
  sections: [
    {
      id: "parterre",
      name: "Партер",
      rows: [
        { id: "1", seats: ["1", "2", "3"] },
        { id: "2", seats: ["1", "2"] },
      ],
    },
    { id: "balcony", name: "Балкон", rows: [{ id: "A", seats: ["1"] }] },
  ],
};

function create(fields: Partial<CreateVenue> = {}): CreateVenue {
  return {
    type: "CreateVenue",
    actor: organizerA,
    at: NOW,
    id: "crocus",
    name: "Crocus City Hall",
    address: "Красногорск, ул. Международная, 20",
    city: "Красногорск",
    timezone: "Europe/Moscow",
    capacity: 7500,
    ...fields,
  };
}

function update(fields: Partial<UpdateVenue> = {}): UpdateVenue {
  return { type: "UpdateVenue", actor: organizerA, at: NOW, id: "crocus", ...fields };
}

function geocoded(fields: Partial<RecordGeocode> = {}): RecordGeocode {
  return {
    type: "RecordGeocode",
    actor: system,
    at: NOW,
    id: "crocus",
    address: "Красногорск, ул. Международная, 20",
    lat: 55.8257,
    lon: 37.3891,
    formatted: "Россия, Московская область, Красногорск, Международная улица, 20",
    ...fields,
  };
}

function geocodeFailed(fields: Partial<RecordGeocodeFailure> = {}): RecordGeocodeFailure {
  return {
    type: "RecordGeocodeFailure",
    actor: system,
    at: NOW,
    id: "crocus",
    address: "Красногорск, ул. Международная, 20",
    code: "GEOCODER_UNAVAILABLE",
    message: "timeout",
    ...fields,
  };
}

const created: VenueEvent[] = when(venueDecider, [], create());

describe("venue decider", () => {
  it("names its stream venue-<id>", () => {
    expect(venueStream("crocus")).toBe("venue-crocus");
  });

  it("creates a general-admission venue owned by the organizer, with a canonical time zone", () => {
    expect(when(venueDecider, [], create({ timezone: "europe/moscow" }))).toEqual([
      {
        type: "VenueCreated",
        data: {
          id: "crocus",
          name: "Crocus City Hall",
          address: "Красногорск, ул. Международная, 20",
          city: "Красногорск",
          timezone: "Europe/Moscow",
          capacity: 7500,
          ownerOrganizerId: "org-a",
        },
      },
    ]);
    expect(addressToGeocode(created[0])).toBe("Красногорск, ул. Международная, 20");
  });

  it("needs a positive capacity without a layout, and a real time zone", () => {
    expect(refusal(() => when(venueDecider, [], create({ capacity: undefined }))).data).toEqual({ field: "capacity" });
    expect(refusal(() => when(venueDecider, [], create({ capacity: 0 }))).data).toEqual({ field: "capacity" });
    expect(refusal(() => when(venueDecider, [], create({ timezone: "Moscow" }))).data).toEqual({ field: "timezone" });
  });

  describe("seating layout", () => {
    it("counts the seats as the capacity and names seats section:row:seat", () => {
      const events = when(venueDecider, [], create({ capacity: undefined, layout }));
      expect(events[0].data).toMatchObject({ capacity: 6, layout });
      expect(venueSnapshot(given(venueDecider, events))?.seatIds).toEqual([
        "parterre:1:1",
        "parterre:1:2",
        "parterre:1:3",
        "parterre:2:1",
        "parterre:2:2",
        "balcony:A:1",
      ]);
      expect(when(venueDecider, [], create({ capacity: 6, layout }))).toHaveLength(1);
    });

    it("refuses a capacity that disagrees with the layout", () => {
      const err = refusal(() => when(venueDecider, [], create({ capacity: 7, layout })));
      expect([err.type, err.data]).toEqual(["VALIDATION", { field: "capacity", seats: 6 }]);
    });

    it("refuses ambiguous seats: twice in a row, a row or section twice, or a colon in a label", () => {
      const section = layout.sections[0];
      const cases: Array<[VenueLayout, string]> = [
        [{ sections: [{ ...section, rows: [{ id: "1", seats: ["1", "1"] }] }] }, "layout.sections[0].rows[0].seats"],
        [{ sections: [{ ...section, rows: [section.rows[0], section.rows[0]] }] }, "layout.sections[0].rows"],
        [{ sections: [section, section] }, "layout.sections"],
        [{ sections: [{ ...section, id: "a:b" }] }, "layout.sections[0].id"],
        [{ sections: [] }, "layout.sections"],
      ];
      for (const [bad, field] of cases) {
        expect(refusal(() => when(venueDecider, [], create({ capacity: undefined, layout: bad }))).data).toEqual({ field });
      }
    });
  });

  describe("update", () => {
    it("announces a new address and forgets the coordinates of the old one", () => {
      const located = [...created, ...when(venueDecider, created, geocoded())];
      expect(given(venueDecider, located)?.location).toMatchObject({ lat: 55.8257, lon: 37.3891 });
      const events = when(venueDecider, located, update({ name: "Crocus", address: "Москва, Тверская, 1" }));
      expect(events).toEqual([
        { type: "VenueUpdated", data: { id: "crocus", name: "Crocus" } },
        { type: "VenueAddressChanged", data: { id: "crocus", address: "Москва, Тверская, 1" } },
      ]);
      expect(addressToGeocode(events[1])).toBe("Москва, Тверская, 1");
      expect(given(venueDecider, [...located, ...events])).not.toHaveProperty("location");
    });

    it("appends nothing when nothing changes", () => {
      expect(
        when(venueDecider, created, update({ name: "Crocus City Hall", timezone: "Europe/Moscow", capacity: 7500 })),
      ).toEqual([]);
    });

    it("recomputes the capacity when the layout changes, and keeps it when the layout is dropped", () => {
      const seated = when(venueDecider, [], create({ capacity: undefined, layout }));
      const smaller = { sections: [layout.sections[1]] };
      expect(when(venueDecider, seated, update({ layout: smaller }))).toEqual([
        { type: "VenueUpdated", data: { id: "crocus", capacity: 1, layout: smaller } },
      ]);
      expect(when(venueDecider, seated, update({ layout: null }))).toEqual([
        { type: "VenueUpdated", data: { id: "crocus", layout: null } },
      ]);
      expect(refusal(() => when(venueDecider, seated, update({ capacity: 10 }))).data).toMatchObject({ field: "capacity" });
    });

    it("lets the owning organizer and admins edit, nobody else", () => {
      expect(refusal(() => when(venueDecider, created, update({ actor: organizerB, name: "Mine" }))).type).toBe("FORBIDDEN");
      expect(when(venueDecider, created, update({ actor: admin, name: "Crocus" }))).toHaveLength(1);
      expect(refusal(() => when(venueDecider, [], update({ name: "x" }))).type).toBe("NOT_FOUND");
    });
  });

  describe("geocoding", () => {
    it("records coordinates of the current address once", () => {
      const events = when(venueDecider, created, geocoded());
      expect(events).toEqual([
        {
          type: "VenueGeocoded",
          data: {
            id: "crocus",
            address: "Красногорск, ул. Международная, 20",
            lat: 55.8257,
            lon: 37.3891,
            formatted: "Россия, Московская область, Красногорск, Международная улица, 20",
            at: NOW,
          },
        },
      ]);
      expect(venueSnapshot(given(venueDecider, [...created, ...events]))).toMatchObject({ lat: 55.8257, lon: 37.3891 });
      expect(when(venueDecider, [...created, ...events], geocoded({ at: NOW + 1 }))).toEqual([]);
    });

    it("drops coordinates computed for an address the venue no longer has", () => {
      const moved = [...created, ...when(venueDecider, created, update({ address: "Москва, Тверская, 1" }))];
      expect(when(venueDecider, moved, geocoded())).toEqual([]);
      expect(when(venueDecider, moved, geocodeFailed())).toEqual([]);
      expect(when(venueDecider, moved, geocoded({ address: "Москва, Тверская, 1" }))).toHaveLength(1);
    });

    it("records a failure once per distinct reason", () => {
      const failure = when(venueDecider, created, geocodeFailed());
      expect(failure).toEqual([
        {
          type: "VenueGeocodeFailed",
          data: {
            id: "crocus",
            address: "Красногорск, ул. Международная, 20",
            failure: { at: NOW, code: "GEOCODER_UNAVAILABLE", message: "timeout" },
          },
        },
      ]);
      expect(when(venueDecider, [...created, ...failure], geocodeFailed({ at: NOW + 60_000 }))).toEqual([]);
    });

    it("refuses impossible coordinates and non-system callers", () => {
      expect(refusal(() => when(venueDecider, created, geocoded({ lat: 91 }))).data).toEqual({ field: "lat" });
      expect(refusal(() => when(venueDecider, created, geocoded({ actor: organizerA }))).type).toBe("FORBIDDEN");
    });
  });
});
