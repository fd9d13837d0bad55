import type { Filter } from "../types";

/**
 * MongoDB-style filters as SQL over a table of JSON documents (`id` column, `body` JSONB).
 *
 * A field with an index and one value per document is compared through the very expression the
 * index is built on, so SQLite uses it. Any other field gets MongoDB's meaning in full: a
 * condition on `a.b` also matches when `a` or `a.b` is an array and one of its elements matches
 * (`{artistIds: x}`, `{"refunds.status": "pending"}`), which SQLite cannot index.
 */

export type SqlValue = null | number | bigint | string;

export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

/** How the table knows which fields have a plain (one value per document) index. */
export interface FieldIndexes {
  isScalarIndexed(path: string): boolean;
}

/** The SQL function the store registers for regular expressions (SQLite has none built in). */
export const REGEXP_FUNCTION = "doc_regexp";

const SEGMENT = /^[A-Za-z_$][\w$-]*$/;

/** `$.a.b` for the field path "a.b"; anything but plain names is refused (it would be spliced into SQL). */
export function jsonPath(path: string): string {
  const segments = path.split(".");
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) throw new Error(`field path "${path}" is not a plain dotted name`);
  }
  return `$.${segments.join(".")}`;
}

/** The expression a field is compared and indexed through. */
export function fieldExpr(path: string, doc = "body"): string {
  return path === "_id" && doc === "body" ? "id" : `json_extract(${doc}, '${jsonPath(path)}')`;
}

type Compare = (value: string, params: SqlValue[]) => string;

export function whereClause(filter: Filter, indexes: FieldIndexes): SqlFragment {
  const params: SqlValue[] = [];
  let alias = 0;

  const all = (f: Filter): string => {
    const parts = Object.entries(f).map(([key, condition]) => clause(key, condition));
    return parts.length === 0 ? "1" : parts.length === 1 ? parts[0] : `(${parts.join(" AND ")})`;
  };

  const clause = (key: string, condition: unknown): string => {
    switch (key) {
      case "$and":
        return `(${list(key, condition).map(all).join(" AND ")})`;
      case "$or":
        return `(${list(key, condition).map(all).join(" OR ")})`;
      case "$nor":
        return `NOT (${list(key, condition).map(all).join(" OR ")})`;
    }
    if (key.startsWith("$")) throw new Error(`query operator ${key} is not supported by the embedded store`);
    if (!isOperatorObject(condition)) return field(key, equals(condition));
    const ops = Object.entries(condition).filter(([op]) => op !== "$options");
    const parts = ops.map(([op, value]) => {
      switch (op) {
        case "$eq":
          return field(key, equals(value));
        case "$ne":
          return `NOT COALESCE(${field(key, equals(value))}, 0)`;
        case "$gt":
        case "$gte":
        case "$lt":
        case "$lte":
          return field(key, ordered(op, value));
        case "$in":
          return field(key, oneOf(list(key, value)));
        case "$nin":
          return `NOT COALESCE(${field(key, oneOf(list(key, value)))}, 0)`;
        case "$exists":
          return `json_type(body, '${jsonPath(key)}') IS ${value ? "NOT NULL" : "NULL"}`;
        case "$regex":
          return field(key, equals(new RegExp(String(value), String((condition as { $options?: string }).$options ?? ""))));
        default:
          throw new Error(`query operator ${op} (on ${key}) is not supported by the embedded store`);
      }
    });
    return parts.length === 1 ? parts[0] : `(${parts.join(" AND ")})`;
  };

  /** A condition on one field path, MongoDB's way unless a plain index says the field holds one value. */
  const field = (path: string, compare: Compare): string => {
    if (path === "_id" || indexes.isScalarIndexed(path)) return compare(fieldExpr(path), params);
    return anyValue("body", path.split("."), compare);
  };

  const anyValue = (doc: string, segments: string[], compare: Compare): string => {
    const whole = jsonPath(segments.join("."));
    const parts = [compare(`json_extract(${doc}, '${whole}')`, params)];
    for (let i = 1; i <= segments.length; i++) {
      const prefix = `$.${segments.slice(0, i).join(".")}`;
      const element = `e${alias++}`;
      const rest = segments.slice(i);
      // Only an object element has fields; json_extract would fail on a string element.
      const inner = rest.length
        ? `CASE WHEN ${element}.type = 'object' THEN ${anyValue(`${element}.value`, rest, compare)} END`
        : compare(`${element}.value`, params);
      parts.push(
        `(json_type(${doc}, '${prefix}') = 'array' AND EXISTS (SELECT 1 FROM json_each(${doc}, '${prefix}') AS ${element} WHERE ${inner}))`,
      );
    }
    return `(${parts.join(" OR ")})`;
  };

  return { sql: all(filter), params };
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!value || typeof value !== "object" || Array.isArray(value) || value instanceof RegExp) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith("$"));
}

function list(key: string, value: unknown): Filter[] & unknown[] {
  if (!Array.isArray(value)) throw new Error(`${key} takes an array`);
  return value as Filter[];
}

/** A JavaScript value as the SQL value json_extract gives for it. */
export function sqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string" || typeof value === "bigint") return value;
  if (value instanceof Date) return value.getTime();
  return JSON.stringify(value);
}

function equals(value: unknown): Compare {
  if (value instanceof RegExp) {
    const flags = value.flags.replace(/[gy]/g, "");
    return (x, params) => {
      params.push(value.source, flags);
      return `${REGEXP_FUNCTION}(?, ?, ${x})`;
    };
  }
  if (value === null || value === undefined) return (x) => `${x} IS NULL`;
  return (x, params) => {
    params.push(sqlValue(value));
    return `${x} = ?`;
  };
}

const ORDER = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" } as const;

function ordered(op: keyof typeof ORDER, value: unknown): Compare {
  return (x, params) => {
    params.push(sqlValue(value));
    return `${x} ${ORDER[op]} ?`;
  };
}

function oneOf(values: unknown[]): Compare {
  const plain = values.filter((v) => v !== null && v !== undefined && !(v instanceof RegExp));
  const others = values.filter((v) => !plain.includes(v)).map(equals);
  return (x, params) => {
    const parts: string[] = [];
    if (plain.length) {
      params.push(...plain.map(sqlValue));
      parts.push(`${x} IN (${plain.map(() => "?").join(", ")})`);
    }
    for (const other of others) parts.push(other(x, params));
    return parts.length === 0 ? "0" : parts.length === 1 ? parts[0] : `(${parts.join(" OR ")})`;
  };
}

/** `ORDER BY` for a MongoDB sort, the id last so pages never overlap. */
export function orderBy(sort: Record<string, 1 | -1> | undefined): string {
  const keys = Object.entries(sort ?? {});
  const terms = keys.map(([path, dir]) => `${fieldExpr(path)} ${dir === -1 ? "DESC" : "ASC"}`);
  if (!keys.some(([path]) => path === "_id")) terms.push("id ASC");
  return `ORDER BY ${terms.join(", ")}`;
}
