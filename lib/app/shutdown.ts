import type { Logger } from "./runtime";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * Makes SIGTERM and SIGINT stop the process through `stop` (the broker's stop: requests under
 * way, services, stores; see lib/app/app.ts) and exit 0 once it is done, 1 if it failed.
 * Moleculer's own handlers are off (`skipProcessEventRegistration`): they exit as soon as the
 * broker has stopped, which left the embedded store open. A second signal exits at once.
 */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting (stores are not closed; the next start recovers)`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: stopping (requests under way finish, runners stop at a checkpoint, stores close)`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error("stopping failed:", err);
        process.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
}
