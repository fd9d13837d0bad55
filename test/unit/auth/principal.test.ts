import { admitsAtDoor, hasRole, requireRole, type Principal } from "../../../lib/auth/principal";

const organizer: Principal = { sub: "u-1", roles: ["customer", "organizer"], organizerId: "org-1" };

describe("hasRole", () => {
  it("is true when any of the roles is held", () => {
    expect(hasRole(organizer, "admin", "organizer")).toBe(true);
    expect(hasRole(organizer, "admin", "checker")).toBe(false);
  });
});

describe("requireRole", () => {
  it("answers 403 FORBIDDEN when none of the roles is held", () => {
    expect(() => requireRole(organizer, "organizer")).not.toThrow();
    expect(() => requireRole(organizer, "admin", "checker")).toThrow(
      expect.objectContaining({ reason: "FORBIDDEN", status: 403 }),
    );
  });
});

describe("admitsAtDoor", () => {
  const ticket = { organizerId: "org-1", eventId: "gig-1" };

  it("lets a checker admit only its organizer's tickets, and only its listed events when it has some", () => {
    const door: Principal = { sub: "d", roles: ["checker"], organizerId: "org-1" };
    expect(admitsAtDoor(door, ticket)).toBe(true);
    expect(admitsAtDoor(door, { ...ticket, organizerId: "org-2" })).toBe(false);
    expect(admitsAtDoor({ ...door, eventIds: ["gig-1"] }, ticket)).toBe(true);
    expect(admitsAtDoor({ ...door, eventIds: ["gig-2"] }, ticket)).toBe(false);
    expect(admitsAtDoor({ ...door, eventIds: [] }, ticket)).toBe(false);
  });

  it("lets an admin admit any ticket, and nobody without the checker role or an organizer", () => {
    expect(admitsAtDoor({ sub: "a", roles: ["admin"] }, ticket)).toBe(true);
    expect(admitsAtDoor({ sub: "c", roles: ["checker"] }, ticket)).toBe(false);
    expect(admitsAtDoor(organizer, { ...ticket, organizerId: "org-1" })).toBe(false);
  });
});
