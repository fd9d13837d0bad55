import { describeCode, perNumberFailure, SMSRU_CODES } from "../../../lib/ports/sms/smsru.codes";

describe("SMS.ru per-number codes", () => {
  it("treats a refused or malformed number as permanent", () => {
    for (const code of [202, 207, 209]) expect(perNumberFailure(code)).toBe("permanent");
  });

  it("treats the gateway's or the account's trouble as transient: the number itself was not refused", () => {
    for (const code of [200, 201, 220, 230, 231, 500]) expect(perNumberFailure(code)).toBe("transient");
  });

  it("falls back to permanent for a code it does not know, or none (a per-number ERROR refuses the number)", () => {
    expect(SMSRU_CODES[999]).toBeUndefined();
    expect(perNumberFailure(999)).toBe("permanent");
    expect(perNumberFailure(undefined)).toBe("permanent");
  });

  it("describes known codes by name and unknown ones by number", () => {
    expect(describeCode(207)).toBe("207 (messages to this number are not allowed)");
    expect(describeCode(999)).toBe("999");
    expect(describeCode(undefined)).toBe("no status_code");
  });
});
