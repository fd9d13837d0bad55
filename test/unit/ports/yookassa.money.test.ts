import { amountToMinor, minorToValue, toAmount, valueToMinor } from "../../../lib/ports/yookassa/yookassa.port";

describe("minorToValue", () => {
  it("writes kopecks as a two-decimal string", () => {
    expect(minorToValue(1)).toBe("0.01");
    expect(minorToValue(10)).toBe("0.10");
    expect(minorToValue(0)).toBe("0.00");
    expect(minorToValue(150000)).toBe("1500.00");
    expect(minorToValue(99999999)).toBe("999999.99");
    expect(minorToValue(Number.MAX_SAFE_INTEGER)).toBe("90071992547409.91");
  });

  it("rejects negatives, fractions and unsafe integers", () => {
    for (const bad of [-1, 1.5, 0.1 + 0.2, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => minorToValue(bad)).toThrow(RangeError);
    }
  });
});

describe("valueToMinor", () => {
  it("reads the API's strings exactly", () => {
    expect(valueToMinor("0.01")).toBe(1);
    expect(valueToMinor("1500.00")).toBe(150000);
    expect(valueToMinor("999999.99")).toBe(99999999);
    // 0.29 * 100 is 28.999999999999996 in floating point.
    expect(valueToMinor("0.29")).toBe(29);
    expect(valueToMinor("1500")).toBe(150000);
    expect(valueToMinor("1500.5")).toBe(150050);
  });

  it("rejects signs, exponents, a third decimal, padding and values past 2^53", () => {
    for (const bad of ["-1.00", "+1.00", "1e3", "1.001", " 1.00", "01.00", "1,00", ".50", "1.", "", "90071992547409.93"]) {
      expect(() => valueToMinor(bad)).toThrow(RangeError);
    }
  });

  it("round-trips with minorToValue", () => {
    for (const minor of [0, 1, 9, 99, 100, 101, 123456789, 99999999]) expect(valueToMinor(minorToValue(minor))).toBe(minor);
  });
});

describe("amounts", () => {
  it("pair a value with its currency", () => {
    expect(toAmount(150000, "RUB")).toEqual({ value: "1500.00", currency: "RUB" });
    expect(amountToMinor({ value: "12.34", currency: "RUB" })).toBe(1234);
  });
});
