/**
 * Bounded waits on state for tests that run on busy machines: poll what the system says until
 * it holds, and when the bound is reached fail with what was awaited and the last thing seen,
 * so a failure reads as a finding ("3 holds never released"), not as "timeout".
 */

export interface WaitOptions<T> {
  /** Upper bound; generous, since the machine may be busy with other work. */
  timeoutMs: number;
  /** Pause between probes. */
  intervalMs?: number;
  /** How the last value is shown in the failure message; JSON by default. */
  show?(value: T): unknown;
  /** Checked before each probe: a reason to stop waiting at once (e.g. the test is over). */
  abandon?(): string | null;
}

export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly last: unknown,
    message: string,
  ) {
    super(message);
    this.name = "WaitTimeout";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function shown(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/**
 * Probes until `done(value)`; returns that value. A probe that throws (a server restarting,
 * a connection refused) counts as "not yet" and its error is the last thing seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: WaitOptions<T>,
): Promise<T> {
  const started = Date.now();
  const interval = options.intervalMs ?? 200;
  let last: { value: T } | { error: string } | null = null;
  for (;;) {
    const reason = options.abandon?.();
    if (reason) throw new Error(`stopped waiting for ${what}: ${reason}`);
    try {
      const value = await probe();
      if (done(value)) return value;
      last = { value };
    } catch (err) {
      last = { error: (err as Error).message };
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      const seen =
        last === null ? "nothing" : "error" in last ? `error ${last.error}` : shown((options.show ?? ((v: T) => v))(last.value));
      throw new WaitTimeout(what, last, `waited ${Math.round(waited / 1000)} s for ${what}; last seen: ${seen}`);
    }
    await sleep(interval);
  }
}
