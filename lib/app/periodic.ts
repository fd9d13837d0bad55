/** Background work repeated at an interval (expiry sweeps) that a stop can wait for. */
export interface Periodic {
  start(): void;
  /** No round starts any more; resolves once the round under way (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `everyMs`, never two at once (a slow round delays the next instead of
 * racing it). A round's failure goes to `onError` and the next round runs as planned. A
 * service stops it in `stopped()`, so a round under way finishes before the stores close.
 */
export function periodic(everyMs: number, round: () => Promise<void>, onError: (err: unknown) => void): Periodic {
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round()
        .catch(onError)
        .finally(() => {
          current = null;
          schedule();
        });
    }, everyMs);
    timer.unref();
  };
  return {
    start() {
      stopped = false;
      if (timer === null && current === null) schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
    },
  };
}
