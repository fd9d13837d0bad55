import {
  Errors,
  Validators,
  type ActionHandler,
  type ActionSchema,
  type Context,
  type Middleware,
  type Service,
} from "moleculer";

/**
 * Action parameter validation, as Moleculer's own validator does it, with three differences:
 *
 * - it is registered as our middleware, before the auth middleware, so it runs inside the
 *   role check: a caller without the role gets 401/403 and learns nothing of the schema.
 *   (Moleculer adds its built-in validator after every user middleware, i.e. outside them.)
 * - a refusal names the field and the rule, never the value the caller sent (fastest-validator's
 *   `actual`: echoing a deeply nested value once overflowed the stack while encoding the
 *   answer), nor the node or action that refused it.
 * - keys that reach prototypes (`__proto__`, `constructor`, `prototype`) are refused at any
 *   depth, like any field the schema does not accept.
 */

/** At most this many problems are listed: a 100,000-element array of wrong values makes one answer, not a megabyte. */
export const MAX_LISTED_PROBLEMS = 20;

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** fastest-validator's messages that quote the value: the same sentences without it. */
const MESSAGES = {
  arrayUnique: "The '{field}' field has repeated values.",
  arrayEnum: "The '{field}' field has a value that is not one of '{expected}'.",
  objectStrict: "The object '{field}' has fields it does not accept (it accepts '{expected}').",
};

export interface ParamProblem {
  type: string;
  field: string;
  message: string;
}

interface CheckerError {
  type: string;
  field?: string;
  message?: string;
  expected?: unknown;
  actual?: unknown;
}

/**
 * A value short and plain enough to quote back: a word like "vip" helps the caller see what
 * they sent, and is below the length the gateway treats as an echo (services/api/echo.ts).
 */
const QUOTABLE = /^[A-Za-z0-9_-]{1,7}$/;

/** An enum refusal names the allowed values, and the value sent only when it is QUOTABLE. */
function enumMessage(e: CheckerError): string {
  const allowed = Array.isArray(e.expected) ? e.expected.join(", ") : String(e.expected ?? "");
  const sent = typeof e.actual === "string" && QUOTABLE.test(e.actual) ? ` '${e.actual}'` : "";
  return `The '${e.field ?? ""}' field${sent ? ` value${sent}` : ""} is not one of the allowed values: ${allowed}.`;
}
type Checker = ((params: unknown, opts: { meta: Context }) => true | CheckerError[] | Promise<true | CheckerError[]>) & {
  async?: boolean;
};

const validator = new Validators.Fastest({ messages: MESSAGES, useNewCustomCheckerFunction: true });

export function validationError(problems: ParamProblem[]): Errors.ValidationError {
  return new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", problems.slice(0, MAX_LISTED_PROBLEMS));
}

/** What a refusal tells the caller: the rule and the field, nothing they sent. */
function problemsOf(errors: CheckerError[]): ParamProblem[] {
  return errors.slice(0, MAX_LISTED_PROBLEMS).map((e) => ({
    type: e.type,
    field: e.field ?? "",
    // The request itself is the object with an empty name.
    message:
      e.type === "enumValue"
        ? enumMessage(e)
        : (e.message ?? `The '${e.field ?? ""}' field is not valid.`).replace("The object '' ", "The request "),
  }));
}

/** Paths of keys that reach prototypes, anywhere in the value (an explicit stack: no recursion on caller-made depth). */
export function prototypeKeys(value: unknown): ParamProblem[] {
  const found: ParamProblem[] = [];
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  while (stack.length && found.length < MAX_LISTED_PROBLEMS) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    const array = Array.isArray(current);
    // Only what JSON makes (plain objects and arrays): a Buffer or a Date has no client keys.
    if (!array && ![Object.prototype, null].includes(Object.getPrototypeOf(current))) continue;
    for (const key of Object.keys(current)) {
      const field = array ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!array && FORBIDDEN_KEYS.has(key)) {
        found.push({
          type: "objectStrict",
          field: path,
          message: `${path ? `The object '${path}'` : "The request"} has a field it does not accept: '${key}'.`,
        });
      } else stack.push({ value: (current as Record<string, unknown>)[key], path: field });
    }
  }
  return found;
}

export const ValidatorMiddleware: Middleware = {
  name: "Validator",
  localAction(next: ActionHandler, action: ActionSchema): ActionHandler {
    const schema = action.params;
    if (!schema || typeof schema !== "object") return next;
    const check = validator.compile(schema) as unknown as Checker;
    return function (this: Service, ctx: Context) {
      const params = ctx.params ?? {};
      const forbidden = prototypeKeys(params);
      if (forbidden.length) return Promise.reject(validationError(forbidden));
      const settle = (result: true | CheckerError[]) =>
        result === true ? next.call(this, ctx) : Promise.reject(validationError(problemsOf(result)));
      const result = check(params, { meta: ctx });
      return result instanceof Promise ? result.then(settle) : settle(result);
    } as ActionHandler;
  },
};
