import { admissionTokens } from "../../../lib/auth/admission-token";

const tokens = admissionTokens("k".repeat(40));
const NOW = Date.parse("2030-01-01T12:00:00Z");

describe("admission tokens", () => {
  const token = tokens.issue("gig", "ann", NOW + 60_000);

  test("compact, and the same inputs give the same token", () => {
    expect(token.length).toBeLessThan(64);
    expect(tokens.issue("gig", "ann", NOW + 60_000)).toBe(token);
    expect(token).not.toContain("ann");
  });

  test("valid for its event and account until it expires", () => {
    expect(tokens.verify(token, "gig", "ann", NOW)).toBe("ok");
    expect(tokens.verify(token, "gig", "ann", NOW + 60_000)).toBe("expired");
  });

  test("refused for another event, another account, another key, or when tampered with", () => {
    expect(tokens.verify(token, "other", "ann", NOW)).toBe("invalid");
    expect(tokens.verify(token, "gig", "bob", NOW)).toBe("invalid");
    expect(admissionTokens("z".repeat(40)).verify(token, "gig", "ann", NOW)).toBe("invalid");
    const [expiry, mac] = token.split(".");
    // A later expiry under the same signature.
    expect(tokens.verify(`${(parseInt(expiry, 36) + 3_600_000).toString(36)}.${mac}`, "gig", "ann", NOW)).toBe("invalid");
    for (const bad of [undefined, 42, "", "x", `${expiry}.${mac}x`, `${expiry}.${mac.slice(1)}`, `${expiry}`]) {
      expect(tokens.verify(bad, "gig", "ann", NOW)).toBe("invalid");
    }
  });

  test("a short secret is refused", () => {
    expect(() => admissionTokens("short")).toThrow(RangeError);
  });
});
