/**
 * Value comparison for "did this command change anything?": a no-op command must append no
 * event. Keys holding `undefined` count as absent, as they do once stored as JSON.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!deepEqual(left[key], right[key])) return false;
  return true;
}

/** Drops keys whose value is `undefined`, so events and documents hold only what was given. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Omit over each member of a union (plain Omit would merge the members into one). */
export type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
