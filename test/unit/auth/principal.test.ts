import { hasRole, requireRole, type Principal } from "../../../lib/auth/principal";

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
