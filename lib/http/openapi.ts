import { isForbidden, isOptional, propsToJsonSchema, ruleToJsonSchema, type JsonSchema } from "./json-schema";

/**
 * The OpenAPI 3.1 document of the gateway, built from what the running code enforces: the
 * route table names the operations, each action's params (fastest-validator) give the
 * parameters and bodies, its `auth` the roles, its `errors` the domain refusals. Nothing is
 * kept by hand except the shape of success bodies.
 */

/** What the document needs of an action: the properties of its schema (see types/moleculer.d.ts). */
export interface ActionContract {
  params?: Record<string, unknown>;
  auth?: readonly string[] | "user";
  errors?: Readonly<Record<string, number>>;
  successStatus?: number;
}

/** A refusal every operation of some kind can give, by status: type → when. */
export type ErrorTable = Record<number, Record<string, string>>;

export interface OpenApiInput {
  title: string;
  version: string;
  description: string;
  /** "METHOD path" → action name, as moleculer-web's aliases. */
  routes: Record<string, string>;
  /** Prefix of every route's path, e.g. "/api". */
  basePath: string;
  /** The contract of an action (undefined: no such action is registered, which is a bug). */
  action(name: string): ActionContract | undefined;
  /** Success body of an action, when it answers with a body. */
  successBody(action: string): JsonSchema | undefined;
  /** Refusals any request can get (tokens, rate limit, unavailable). */
  anyRequest: ErrorTable;
  /** Refusals a request with a body can get (size, media type, JSON). */
  withBody: ErrorTable;
  /** Refusals of a request carrying an Idempotency-Key. */
  idempotencyKey: ErrorTable;
  /** Examples of parameter values by name, used where a field of that name appears. */
  examples: Record<string, unknown>;
}

const BODY_METHODS = new Set(["POST", "PATCH", "PUT"]);

export const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["name", "message", "code", "type"],
  properties: {
    name: { type: "string" },
    message: { type: "string" },
    code: { type: "integer" },
    type: { type: "string", description: "stable, machine-readable reason: match on this, not on the message" },
    data: { description: "details of the refusal (e.g. the fields a validation refused)" },
  },
};

export function buildOpenApi(input: OpenApiInput): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [route, actionName] of Object.entries(input.routes)) {
    const [method, path] = route.split(" ");
    const contract = input.action(actionName);
    if (!contract) throw new Error(`route ${route} names ${actionName}, which is not registered`);
    const openPath = `${input.basePath}/${path}`.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    paths[openPath] ??= {};
    paths[openPath][method.toLowerCase()] = operation(input, method, path, actionName, contract);
  }
  return {
    openapi: "3.1.0",
    info: { title: input.title, version: input.version, description: input.description },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

function operation(input: OpenApiInput, method: string, path: string, actionName: string, contract: ActionContract) {
  const pathNames = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const rules = contract.params ?? {};
  const where = `${method} ${path} (${actionName})`;
  const parameters: unknown[] = pathNames.map((name) => {
    if (!(name in rules)) throw new Error(`${where}: path parameter ${name} is not among the action's params`);
    return parameter(name, "path", rules[name], where, input.examples);
  });
  const rest = Object.fromEntries(
    Object.entries(rules).filter(([name, rule]) => !pathNames.includes(name) && !name.startsWith("$$") && !isForbidden(rule)),
  );
  const hasBody = BODY_METHODS.has(method);
  let requestBody: unknown;
  if (hasBody && Object.keys(rest).length) {
    const schema: JsonSchema = { type: "object", ...propsToJsonSchema(rest, rules.$$strict, "") };
    requestBody = {
      required: Object.values(rest).some((rule) => !isOptional(rule)),
      content: { "application/json": { schema, example: exampleOf(schema, input.examples) } },
    };
  } else if (hasBody && rules.$$strict === false) {
    // An action that takes any object (a provider's webhook checks it itself).
    requestBody = { required: false, content: { "application/json": { schema: { type: "object" } } } };
  } else if (!hasBody) {
    for (const [name, rule] of Object.entries(rest)) parameters.push(parameter(name, "query", rule, where, input.examples));
  }
  const idempotent = hasBody;
  if (idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "retries with the same key within 24 h get the first answer instead of acting twice",
      schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{8,128}$" },
    });
  }

  const refusals: ErrorTable = {};
  const add = (table: ErrorTable) => {
    for (const [status, types] of Object.entries(table)) Object.assign((refusals[Number(status)] ??= {}), types);
  };
  add(input.anyRequest);
  if (hasBody) add(input.withBody);
  if (idempotent) add(input.idempotencyKey);
  if (Object.keys(rest).length || pathNames.length)
    add({ 422: { VALIDATION_ERROR: "a parameter breaks its schema (every problem is listed in `data`)" } });
  if (contract.auth) add({ 401: { TOKEN_MISSING: "no bearer token was sent" } });
  if (Array.isArray(contract.auth)) add({ 403: { FORBIDDEN: `the token has none of the roles ${contract.auth.join(", ")}` } });
  for (const [type, status] of Object.entries(contract.errors ?? {})) add({ [status]: { [type]: "see the message" } });

  const successStatus = contract.successStatus ?? 200;
  const body = input.successBody(actionName);
  const responses: Record<string, unknown> = {
    [String(successStatus)]: {
      description: successStatus === 201 ? "created" : successStatus === 202 ? "accepted" : "OK",
      ...(body ? { content: { "application/json": { schema: body } } } : {}),
    },
  };
  for (const [status, types] of Object.entries(refusals).sort(([a], [b]) => Number(a) - Number(b))) {
    const names = Object.keys(types).sort();
    responses[status] = {
      description: names.map((t) => `\`${t}\`: ${types[t]}`).join("; "),
      content: {
        "application/json": {
          schema: { allOf: [{ $ref: "#/components/schemas/Error" }, { properties: { type: { enum: names } } }] },
          example: { name: "Error", message: types[names[0]], code: Number(status), type: names[0] },
        },
      },
    };
  }

  const roles = contract.auth === undefined ? [] : contract.auth === "user" ? ["any signed-in user"] : [...contract.auth];
  return {
    operationId: `${actionName}`.replace(/\./g, "_"),
    tags: [actionName.split(".")[0]],
    summary: `${method} /${path}`,
    description: contract.auth === undefined ? "Public: no token needed." : `Needs a bearer token with: ${roles.join(" or ")}.`,
    "x-roles": roles,
    ...(contract.auth === undefined ? { security: [{}, { bearer: [] }] } : { security: [{ bearer: [] }] }),
    parameters,
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

function parameter(name: string, place: "path" | "query", rule: unknown, where: string, examples: Record<string, unknown>) {
  const schema = ruleToJsonSchema(rule, `${where} ${name}`);
  const example = examples[name];
  return {
    name,
    in: place,
    required: place === "path" || !isOptional(rule),
    schema,
    ...(example !== undefined ? { example } : {}),
  };
}

/** An example body: named examples where given, else the simplest value of each required field. */
function exampleOf(schema: JsonSchema, examples: Record<string, unknown>): unknown {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(props)) {
    if (examples[name] !== undefined) out[name] = examples[name];
    else if (required.has(name)) out[name] = simplest(sub, examples);
  }
  return out;
}

function simplest(schema: JsonSchema, examples: Record<string, unknown>): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return simplest(schema.anyOf[0] as JsonSchema, examples);
  switch (schema.type) {
    case "integer":
    case "number":
      return Math.max(1, Number(schema.minimum ?? 1));
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return exampleOf(schema, examples);
    default:
      return schema.format === "email" ? "buyer@example.com" : schema.format === "uri" ? "https://example.com/" : "text";
  }
}
