import { BodyError, depthOf, parseJsonObject } from "../../../lib/http/json-body";

describe("the gateway's JSON body parser", () => {
  test("depth counts objects and arrays, not brackets inside strings or after escaped quotes", () => {
    expect(depthOf('{"a":[{"b":1}]}', 32)).toBe(3);
    expect(depthOf('{"a":"[[[[{{{{","b":"\\"[[[["}', 32)).toBe(1);
    expect(depthOf('{"a":"\\\\"}', 32)).toBe(1);
    // Counting stops just past the limit: a 20,000-deep body costs 33 steps of depth.
    expect(depthOf("[".repeat(20_000), 32)).toBe(33);
  });

  test.each([
    ["deeper than the limit", Buffer.from(`{"a":${"[".repeat(33)}${"]".repeat(33)}}`), 400, "JSON_TOO_DEEP"],
    ["not UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 400, "INVALID_UTF8"],
    ["not JSON", Buffer.from('{"a": secret-value'), 400, "INVALID_JSON"],
    ["an array", Buffer.from("[1]"), 400, "BODY_NOT_OBJECT"],
    ["a string", Buffer.from('"x"'), 400, "BODY_NOT_OBJECT"],
  ])("refuses a body %s, without quoting it", (_, bytes, status, type) => {
    let caught: unknown;
    try {
      parseJsonObject(bytes, 32);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BodyError);
    expect([(caught as BodyError).status, (caught as BodyError).type]).toEqual([status, type]);
    expect((caught as BodyError).message).not.toContain("secret");
  });

  test("an empty body is an empty object; 32 levels pass", () => {
    expect(parseJsonObject(Buffer.from(""), 32)).toEqual({});
    const deep = `{"a":${'{"a":'.repeat(31)}1${"}".repeat(31)}}`;
    expect(depthOf(deep, 32)).toBe(32);
    expect(parseJsonObject(Buffer.from(deep), 32)).toHaveProperty("a");
  });
});
