import { parseRetryAfter, redact } from "../../../lib/ports/http";

describe("redact", () => {
  it("hides a secret in raw and URL-encoded form", () => {
    expect(redact("key=a/b+c and a%2Fb%2Bc", ["a/b+c"])).toBe("key=*** and ***");
  });

  it("ignores absent secrets", () => {
    expect(redact("nothing to hide", [undefined, ""])).toBe("nothing to hide");
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
  });

  it("reads an HTTP date as seconds from now, never negative", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
  });

  it("returns undefined when absent or unreadable", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
