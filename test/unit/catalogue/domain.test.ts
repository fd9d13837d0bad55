import { isValidLegalEntityInn, isValidOgrn, isValidOgrnip, isValidPersonalInn } from "../../../lib/domain/legal";
import { minorUnits } from "../../../lib/domain/money";
import { searchKey } from "../../../lib/domain/text";
import { formatInstant, instant, timeZone, utcOffset } from "../../../lib/domain/time";
import { webUrl } from "../../../lib/domain/validation";
import { refusal } from "./fixtures";

describe("Russian registration numbers", () => {
  it("accepts a legal entity's INN with the right check digit and refuses any other", () => {
    expect(isValidLegalEntityInn("7707083893")).toBe(true); // Sberbank
    expect(isValidLegalEntityInn("7707083894")).toBe(false);
    expect(isValidLegalEntityInn("770708389")).toBe(false);
    expect(isValidLegalEntityInn("77070838 3")).toBe(false);
  });

  it("checks both check digits of an individual's 12-digit INN", () => {
    expect(isValidPersonalInn("500100732259")).toBe(true);
    expect(isValidPersonalInn("500100732258")).toBe(false);
    expect(isValidPersonalInn("500100732249")).toBe(false);
    expect(isValidPersonalInn("7707083893")).toBe(false);
  });

  it("checks the OGRN (13 digits, modulo 11) and the OGRNIP (15 digits, modulo 13)", () => {
    expect(isValidOgrn("1027700132195")).toBe(true); // Sberbank
    expect(isValidOgrn("1027700132196")).toBe(false);
    expect(isValidOgrnip("304500116000157")).toBe(true);
    expect(isValidOgrnip("304500116000158")).toBe(false);
    expect(isValidOgrn("304500116000157")).toBe(false);
    expect(isValidOgrnip("1027700132195")).toBe(false);
  });
});

describe("time", () => {
  it("canonicalises IANA zones and refuses raw offsets and unknown names", () => {
    expect(timeZone("europe/moscow", "tz")).toBe("Europe/Moscow");
    expect(refusal(() => timeZone("+03:00", "tz")).data).toEqual({ field: "tz" });
    expect(refusal(() => timeZone("Mars/Olympus_Mons", "tz")).type).toBe("VALIDATION");
  });

  it("parses ISO 8601 with an offset or epoch ms, and refuses local times without an offset", () => {
    expect(instant("2030-06-01T19:00:00+03:00", "startsAt")).toBe(Date.UTC(2030, 5, 1, 16));
    expect(instant("2030-06-01T16:00Z", "startsAt")).toBe(Date.UTC(2030, 5, 1, 16));
    expect(instant(Date.UTC(2030, 5, 1), "startsAt")).toBe(Date.UTC(2030, 5, 1));
    const refused = refusal(() => instant("2030-06-01T19:00:00", "startsAt"));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain("startsAt");
    expect(refusal(() => instant("2030-02-30T19:00:00+03:00", "startsAt")).type).toBe("VALIDATION");
    expect(refusal(() => instant(1.5, "startsAt")).type).toBe("VALIDATION");
    expect(refusal(() => instant("1999-12-31T23:00:00Z", "startsAt")).type).toBe("VALIDATION");
  });

  it("writes local time with the offset in force at that instant (daylight saving included)", () => {
    expect(formatInstant(Date.UTC(2030, 0, 15, 18), "Europe/Berlin")).toBe("2030-01-15T19:00:00+01:00");
    expect(formatInstant(Date.UTC(2030, 6, 15, 17), "Europe/Berlin")).toBe("2030-07-15T19:00:00+02:00");
    expect(formatInstant(Date.UTC(2030, 6, 15, 17), "UTC")).toBe("2030-07-15T17:00:00+00:00");
    expect(formatInstant(Date.UTC(2030, 6, 15, 23, 30), "America/New_York")).toBe("2030-07-15T19:30:00-04:00");
    expect(utcOffset(0, "Asia/Kolkata")).toBe("+05:30");
  });
});

describe("money, urls and search keys", () => {
  it("takes prices as whole minor units only", () => {
    expect(minorUnits(150000, "price")).toBe(150000);
    expect(minorUnits(0, "price")).toBe(0);
    expect(refusal(() => minorUnits(1500.5, "price")).type).toBe("VALIDATION");
    expect(refusal(() => minorUnits(-1, "price")).type).toBe("VALIDATION");
  });

  it("accepts http(s) links only, and https only where asked", () => {
    expect(webUrl("http://example.com/a", "url")).toBe("http://example.com/a");
    expect(refusal(() => webUrl("javascript:alert(1)", "url")).type).toBe("VALIDATION");
    expect(refusal(() => webUrl("ftp://example.com", "url")).type).toBe("VALIDATION");
    expect(refusal(() => webUrl("http://example.com", "mediaUrl", { httpsOnly: true })).data).toEqual({ field: "mediaUrl" });
  });

  it("folds case, ё and spacing so a search finds what users type", () => {
    expect(searchKey("  Ёлка   ФЕСТ ")).toBe("елка фест");
    expect(searchKey("Земфира")).toBe(searchKey("ЗЕМФИРА"));
  });
});
