/**
 * fastest-validator rules (what our actions validate with) as JSON Schema (what OpenAPI 3.1
 * speaks). Only the rules and options this code base uses are mapped; anything else throws
 * UnmappedRuleError, so a new rule in an action's params is mapped here before the API
 * document can be built, never silently documented as "anything".
 */

export type JsonSchema = Record<string, unknown>;

export class UnmappedRuleError extends Error {
  override readonly name = "UnmappedRuleError";
}

/** Options that change nothing a client sees (messages, conversions the server does). */
const IGNORED = new Set(["type", "optional", "messages", "convert", "default", "deprecated"]);

/** The options each rule type may carry, and how each becomes JSON Schema. */
const OPTIONS: Record<string, Record<string, (value: unknown, out: JsonSchema) => void>> = {
  string: {
    min: (v, out) => (out.minLength = v),
    max: (v, out) => (out.maxLength = v),
    pattern: (v, out) => (out.pattern = patternSource(v)),
    enum: (v, out) => (out.enum = v),
    empty: (v, out) => {
      if (v === false) out.minLength = Math.max(1, Number(out.minLength ?? 0));
    },
  },
  number: {
    integer: (v, out) => {
      if (v === true) out.type = "integer";
    },
    min: (v, out) => (out.minimum = v),
    max: (v, out) => (out.maximum = v),
    positive: (v, out) => {
      if (v === true) out.exclusiveMinimum = 0;
    },
  },
  boolean: {},
  email: { max: (v, out) => (out.maxLength = v) },
  url: {},
  enum: { values: (v, out) => (out.enum = v) },
  array: {
    items: () => undefined, // converted below: it is a rule of its own
    min: (v, out) => (out.minItems = v),
    max: (v, out) => (out.maxItems = v),
    unique: (v, out) => {
      if (v === true) out.uniqueItems = true;
    },
    empty: (v, out) => {
      if (v === false) out.minItems = Math.max(1, Number(out.minItems ?? 0));
    },
  },
  object: {
    props: () => undefined, // converted below
    strict: () => undefined,
  },
  multi: { rules: () => undefined },
};

const BASE_TYPE: Record<string, JsonSchema> = {
  string: { type: "string" },
  number: { type: "number" },
  boolean: { type: "boolean" },
  email: { type: "string", format: "email" },
  url: { type: "string", format: "uri" },
  enum: {},
  array: { type: "array" },
  object: { type: "object" },
  multi: {},
};

/** A rule in its long form: "string|optional" and "string" are shorthands. */
function normalise(rule: unknown, where: string): Record<string, unknown> {
  if (typeof rule === "string") {
    const [type, ...flags] = rule.split("|");
    const out: Record<string, unknown> = { type };
    for (const flag of flags) {
      if (flag === "optional") out.optional = true;
      else throw new UnmappedRuleError(`${where}: shorthand option "${flag}" of "${rule}" is not mapped to JSON Schema`);
    }
    return out;
  }
  if (typeof rule === "object" && rule !== null && !Array.isArray(rule)) return rule as Record<string, unknown>;
  throw new UnmappedRuleError(`${where}: a rule must be a string or an object`);
}

function patternSource(value: unknown): string {
  if (value instanceof RegExp) {
    if (value.flags.replace("u", "") !== "") throw new UnmappedRuleError(`pattern ${value} has flags JSON Schema cannot express`);
    return value.source;
  }
  if (typeof value === "string") return value;
  // A RegExp sent over the transporter arrives as {}: write patterns as strings (see ID_PATTERN).
  throw new UnmappedRuleError("pattern is neither a RegExp nor a string (a RegExp does not survive the transporter)");
}

/** Whether a field may be left out. */
export function isOptional(rule: unknown): boolean {
  const r = typeof rule === "string" ? normalise(rule, "") : (rule as Record<string, unknown>);
  return r.optional === true;
}

/** Whether the field may not be sent at all (a `forbidden` rule): it is not part of the API. */
export function isForbidden(rule: unknown): boolean {
  return typeof rule === "object" && rule !== null && (rule as { type?: unknown }).type === "forbidden";
}

/** One fastest-validator rule as JSON Schema; `where` names it in the error. */
export function ruleToJsonSchema(rule: unknown, where: string): JsonSchema {
  const r = normalise(rule, where);
  const type = String(r.type);
  const options = OPTIONS[type];
  if (!options) throw new UnmappedRuleError(`${where}: fastest-validator rule "${type}" is not mapped to JSON Schema`);
  const out: JsonSchema = { ...BASE_TYPE[type] };
  for (const [key, value] of Object.entries(r)) {
    if (IGNORED.has(key) || key === "nullable") continue;
    const apply = options[key];
    if (!apply) throw new UnmappedRuleError(`${where}: option "${key}" of rule "${type}" is not mapped to JSON Schema`);
    apply(value, out);
  }
  if (type === "array" && r.items !== undefined) out.items = ruleToJsonSchema(r.items, `${where}[]`);
  if (type === "object") Object.assign(out, propsToJsonSchema(r.props as Record<string, unknown> | undefined, r.strict, where));
  if (type === "multi") out.anyOf = (r.rules as unknown[]).map((sub, i) => ruleToJsonSchema(sub, `${where}<${i}>`));
  // Ours, not fastest-validator's (which ignores it): a field kept for old clients.
  if (r.deprecated === true) out.deprecated = true;
  if (r.nullable === true) return { anyOf: [out, { type: "null" }] };
  return out;
}

/**
 * An object's fields. `strict: true` refuses unknown fields; `"remove"` (and no strictness)
 * drops them silently, so they are allowed.
 */
export function propsToJsonSchema(props: Record<string, unknown> | undefined, strict: unknown, where: string): JsonSchema {
  if (!props) return {};
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, rule] of Object.entries(props)) {
    if (name.startsWith("$$") || isForbidden(rule)) continue;
    properties[name] = ruleToJsonSchema(rule, where ? `${where}.${name}` : name);
    if (!isOptional(rule)) required.push(name);
  }
  return {
    properties,
    ...(required.length ? { required } : {}),
    ...(strict === true ? { additionalProperties: false } : {}),
  };
}
