import { organizerDecider, organizerSnapshot } from "../../../services/organizers/organizers.decider";
import type {
  CreateOrganizer,
  OrganizerEvent,
  OrganizerLegals,
  UpdateOrganizer,
} from "../../../services/organizers/organizers.types";
import { organizerStream } from "../../../services/organizers/organizers.types";
import { NOW, admin, customer, given, organizerA, organizerB, refusal, when } from "./fixtures";

const sber: OrganizerLegals = {
  name: "ПАО Сбербанк",
  type: "ru_ltd",
  inn: "7707083893",
  ogrn: "1027700132195",
  address: "Москва",
};

function create(fields: Partial<CreateOrganizer> = {}): CreateOrganizer {
  return { type: "CreateOrganizer", actor: admin, at: NOW, id: "org-a", name: "Live Nation RU", ...fields };
}

function update(fields: Partial<UpdateOrganizer> = {}): UpdateOrganizer {
  return { type: "UpdateOrganizer", actor: organizerA, at: NOW, id: "org-a", ...fields };
}

const created: OrganizerEvent[] = [{ type: "OrganizerCreated", data: { id: "org-a", name: "Live Nation RU", legals: sber } }];

describe("organizer decider", () => {
  it("names its stream organizer-<id>", () => {
    expect(organizerStream("org-a")).toBe("organizer-org-a");
  });

  it("lets an admin create any organizer and an organizer account only its own", () => {
    expect(when(organizerDecider, [], create({ id: "whatever" }))).toEqual([
      { type: "OrganizerCreated", data: { id: "whatever", name: "Live Nation RU" } },
    ]);
    expect(when(organizerDecider, [], create({ actor: organizerA }))).toHaveLength(1);
    const other = refusal(() => when(organizerDecider, [], create({ actor: organizerB })));
    expect([other.type, other.status]).toEqual(["FORBIDDEN", 403]);
    expect(refusal(() => when(organizerDecider, [], create({ actor: customer }))).type).toBe("FORBIDDEN");
  });

  it("refuses to create the same organizer twice", () => {
    const err = refusal(() => when(organizerDecider, created, create()));
    expect([err.type, err.status]).toEqual(["ALREADY_EXISTS", 409]);
  });

  it("trims the name and refuses an empty or overlong one, naming the field", () => {
    expect(when(organizerDecider, [], create({ name: "  Live Nation RU  " }))[0].data).toMatchObject({ name: "Live Nation RU" });
    for (const name of ["   ", "x".repeat(201)]) {
      const err = refusal(() => when(organizerDecider, [], create({ name })));
      expect([err.type, err.status, err.data]).toEqual(["VALIDATION", 400, { field: "name" }]);
    }
  });

  describe("legal details", () => {
    it("accepts a Russian company with a valid INN and OGRN", () => {
      expect(when(organizerDecider, [], create({ legals: sber }))[0].data).toEqual({
        id: "org-a",
        name: "Live Nation RU",
        legals: sber,
      });
    });

    it("refuses a wrong check digit, or numbers of the other legal form", () => {
      const cases: Array<[Partial<OrganizerLegals>, string]> = [
        [{ inn: "7707083894" }, "legals.inn"],
        [{ ogrn: "1027700132196" }, "legals.ogrn"],
        [{ inn: "500100732259" }, "legals.inn"],
        [{ ogrn: "304500116000157" }, "legals.ogrn"],
      ];
      for (const [change, field] of cases) {
        const err = refusal(() => when(organizerDecider, [], create({ legals: { ...sber, ...change } })));
        expect([err.type, err.data]).toEqual(["VALIDATION", { field }]);
      }
    });

    it("checks a sole entrepreneur's 12-digit INN and 15-digit OGRNIP", () => {
      const lp: OrganizerLegals = { name: "ИП Иванов", type: "ru_lp", inn: "500100732259", ogrn: "304500116000157" };
      expect(when(organizerDecider, [], create({ legals: lp }))).toHaveLength(1);
      expect(refusal(() => when(organizerDecider, [], create({ legals: { ...lp, inn: "7707083893" } }))).data).toEqual({
        field: "legals.inn",
      });
      expect(refusal(() => when(organizerDecider, [], create({ legals: { ...lp, ogrn: "1027700132195" } }))).data).toEqual({
        field: "legals.ogrn",
      });
    });

    it("applies no Russian checks to a foreign company", () => {
      const en: OrganizerLegals = { name: "Live Nation Ltd", type: "en_ltd", inn: "GB123456789", ogrn: "02757326" };
      expect(when(organizerDecider, [], create({ legals: en }))[0].data).toMatchObject({ legals: en });
    });

    it("refuses an unknown legal type", () => {
      const legals = { ...sber, type: "llc" } as unknown as OrganizerLegals;
      expect(refusal(() => when(organizerDecider, [], create({ legals }))).data).toEqual({ field: "legals.type" });
    });
  });

  describe("update", () => {
    it("carries only the changed fields", () => {
      expect(when(organizerDecider, created, update({ name: "Live Nation", legals: sber }))).toEqual([
        { type: "OrganizerUpdated", data: { id: "org-a", name: "Live Nation" } },
      ]);
    });

    it("appends nothing when nothing changes", () => {
      expect(when(organizerDecider, created, update({ name: " Live Nation RU ", legals: { ...sber } }))).toEqual([]);
      expect(when(organizerDecider, created, update())).toEqual([]);
    });

    it("removes the legal details with null, and folds the change into the state", () => {
      const events = when(organizerDecider, created, update({ legals: null }));
      expect(events).toEqual([{ type: "OrganizerUpdated", data: { id: "org-a", legals: null } }]);
      const state = given(organizerDecider, [...created, ...events]);
      expect(state).toEqual({ id: "org-a", name: "Live Nation RU" });
      expect(when(organizerDecider, [...created, ...events], update({ legals: null }))).toEqual([]);
    });

    it("lets only the organizer itself or an admin change it", () => {
      expect(refusal(() => when(organizerDecider, created, update({ actor: organizerB, name: "Mine" }))).type).toBe("FORBIDDEN");
      expect(refusal(() => when(organizerDecider, created, update({ actor: customer, name: "Mine" }))).type).toBe("FORBIDDEN");
      expect(when(organizerDecider, created, update({ actor: admin, name: "Renamed" }))).toHaveLength(1);
    });

    it("answers NOT_FOUND for an organizer that does not exist", () => {
      const err = refusal(() => when(organizerDecider, [], update({ name: "x" })));
      expect([err.type, err.status]).toEqual(["NOT_FOUND", 404]);
    });
  });

  it("gives events a snapshot of id and name", () => {
    expect(organizerSnapshot(given(organizerDecider, created))).toEqual({ id: "org-a", name: "Live Nation RU" });
    expect(organizerSnapshot(null)).toBeNull();
  });
});
