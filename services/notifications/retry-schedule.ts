/**
 * When a transient failure is tried again: exponential backoff with full jitter (a random
 * delay between 0 and base·2^(attempt-1), at most `maxMs`), so nodes that failed together
 * against a provider that was down do not all come back at the same instant. A provider's
 * Retry-After is a floor: retrying before it only earns another refusal.
 */
export function retryDelay(
  attempt: number,
  options: { baseMs: number; maxMs: number; retryAfterMs?: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, options.retryAfterMs ?? 0);
}
