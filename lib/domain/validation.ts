import { DomainError } from "../eventlog/decider";

/**
 * Checks for command fields. Commands are typed, but they are built from HTTP bodies and Kafka
 * messages, so every check also guards the runtime type: a decider never trusts its input.
 * Each error names the field, so a client can point at the wrong input.
 */

export function invalid(field: string, message: string, data: Record<string, unknown> = {}): DomainError {
  return new DomainError("VALIDATION", `${field} ${message}`, 400, { field, ...data });
}

export interface TextLimits {
  min?: number;
  max: number;
}

/** A trimmed string of `min` (default 1) to `max` characters. */
export function text(value: unknown, field: string, { min = 1, max }: TextLimits): string {
  if (typeof value !== "string") throw invalid(field, "must be a string");
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) throw invalid(field, `must be ${min} to ${max} characters`);
  return trimmed;
}

export function optionalText(value: unknown, field: string, limits: TextLimits): string | undefined {
  return value === undefined ? undefined : text(value, field, limits);
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(field, `must be one of: ${allowed.join(", ")}`);
  }
  return value as T;
}

export function positiveInt(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw invalid(field, "must be a positive integer");
  return value as number;
}

export function nonNegativeInt(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(field, "must be a non-negative integer");
  return value as number;
}

export function array(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw invalid(field, "must be an array");
  if (value.length > max) throw invalid(field, `must have at most ${max} items`);
  return value;
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(field, "must be an object");
  return value as Record<string, unknown>;
}

const MAX_URL = 2000;

/** An absolute http(s) URL; `https` only when the link is embedded in our pages (mixed content). */
export function webUrl(value: unknown, field: string, { httpsOnly = false } = {}): string {
  const raw = text(value, field, { max: MAX_URL });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(field, "must be an absolute URL");
  }
  const allowed = httpsOnly ? ["https:"] : ["http:", "https:"];
  if (!allowed.includes(url.protocol)) throw invalid(field, `must be an ${httpsOnly ? "https" : "http or https"} URL`);
  return raw;
}
