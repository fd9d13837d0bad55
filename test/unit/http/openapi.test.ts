import { ruleToJsonSchema, propsToJsonSchema, UnmappedRuleError } from "../../../lib/http/json-schema";
import { buildOpenApi, type ActionContract } from "../../../lib/http/openapi";

describe("fastest-validator rules as JSON Schema", () => {
  it("maps the rules and options the actions use", () => {
    expect(ruleToJsonSchema({ type: "string", min: 1, max: 5, pattern: /^a+$/ }, "f")).toEqual({
      type: "string",
      minLength: 1,
      maxLength: 5,
      pattern: "^a+$",
    });
    expect(ruleToJsonSchema({ type: "string", pattern: "^b$", enum: ["b"] }, "f")).toEqual({
      type: "string",
      pattern: "^b$",
      enum: ["b"],
    });
    expect(ruleToJsonSchema({ type: "number", integer: true, positive: true, max: 9, convert: true }, "f")).toEqual({
      type: "integer",
      exclusiveMinimum: 0,
      maximum: 9,
    });
    expect(ruleToJsonSchema({ type: "number", min: 0 }, "f")).toEqual({ type: "number", minimum: 0 });
    expect(ruleToJsonSchema("boolean", "f")).toEqual({ type: "boolean" });
    expect(ruleToJsonSchema({ type: "email" }, "f")).toEqual({ type: "string", format: "email" });
    expect(ruleToJsonSchema({ type: "url", optional: true }, "f")).toEqual({ type: "string", format: "uri" });
    expect(ruleToJsonSchema({ type: "enum", values: ["a", "b"] }, "f")).toEqual({ enum: ["a", "b"] });
    expect(ruleToJsonSchema({ type: "array", min: 1, max: 3, items: "string" }, "f")).toEqual({
      type: "array",
      minItems: 1,
      maxItems: 3,
      items: { type: "string" },
    });
    expect(
      ruleToJsonSchema({ type: "object", strict: true, props: { a: "string", b: { type: "number", optional: true } } }, "f"),
    ).toEqual({
      type: "object",
      properties: { a: { type: "string" }, b: { type: "number" } },
      required: ["a"],
      additionalProperties: false,
    });
    expect(ruleToJsonSchema({ type: "object", nullable: true, props: {} }, "f")).toEqual({
      anyOf: [{ type: "object", properties: {} }, { type: "null" }],
    });
    expect(ruleToJsonSchema({ type: "multi", rules: ["string", { type: "number", integer: true }] }, "f")).toEqual({
      anyOf: [{ type: "string" }, { type: "integer" }],
    });
  });

  it("reads $$strict and leaves forbidden fields out", () => {
    expect(propsToJsonSchema({ a: "string", b: { type: "forbidden" } }, true, "")).toEqual({
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false,
    });
    expect(propsToJsonSchema({ a: "string|optional" }, "remove", "")).toEqual({ properties: { a: { type: "string" } } });
  });

  it.each([
    [{ type: "date" }, /rule "date" is not mapped/],
    [{ type: "string", alpha: true }, /option "alpha" of rule "string" is not mapped/],
    [{ type: "number", equal: 3 }, /option "equal"/],
    ["string|trim", /shorthand option "trim"/],
    [{ type: "string", pattern: /a/i }, /flags JSON Schema cannot express/],
    [{ type: "string", pattern: {} }, /does not survive the transporter/],
    [{ type: "array", items: { type: "uuid" } }, /f\[\]: fastest-validator rule "uuid"/],
  ])("fails loudly on a rule it does not know: %j", (rule, message) => {
    expect(() => ruleToJsonSchema(rule, "f")).toThrow(UnmappedRuleError);
    expect(() => ruleToJsonSchema(rule, "f")).toThrow(message);
  });
});

describe("the API document", () => {
  const actions: Record<string, ActionContract> = {
    "things.get": { params: { id: { type: "string", max: 9 }, select: { type: "string", optional: true } } },
    "things.create": {
      auth: ["organizer"],
      errors: { THING_EXISTS: 409 },
      successStatus: 201,
      params: { name: { type: "string", max: 9 }, $$strict: true },
    },
    "things.odd": { params: { when: { type: "date" } } },
  };
  const input = (routes: Record<string, string>) => ({
    title: "t",
    version: "1",
    description: "d",
    routes,
    basePath: "/api",
    action: (name: string) => actions[name],
    successBody: () => ({ type: "object" }),
    anyRequest: { 503: { SERVICE_UNAVAILABLE: "x" } },
    withBody: { 415: { UNSUPPORTED_MEDIA_TYPE: "x" } },
    idempotencyKey: {},
    examples: { name: "Thing" },
  });

  it("names each route's parameters, body, roles and refusals", () => {
    const doc = buildOpenApi(input({ "GET things/:id": "things.get", "POST things": "things.create" })) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const get = doc.paths["/api/things/{id}"].get;
    expect(get.parameters).toEqual([
      expect.objectContaining({ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 9 } }),
      expect.objectContaining({ name: "select", in: "query", required: false }),
    ]);
    expect(get["x-roles"]).toEqual([]);
    const post = doc.paths["/api/things"].post;
    expect(post["x-roles"]).toEqual(["organizer"]);
    expect(post.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(post.responses as object).sort()).toEqual(["201", "401", "403", "409", "415", "422", "503"]);
    expect(post.requestBody).toMatchObject({
      required: true,
      content: {
        "application/json": { schema: { additionalProperties: false, required: ["name"] }, example: { name: "Thing" } },
      },
    });
  });

  it("refuses to be built when a route's action has a rule the converter does not know", () => {
    expect(() => buildOpenApi(input({ "GET odd": "things.odd" }))).toThrow(UnmappedRuleError);
  });

  it("refuses a route whose action is not registered", () => {
    expect(() => buildOpenApi(input({ "GET gone": "things.gone" }))).toThrow(/not registered/);
  });
});
