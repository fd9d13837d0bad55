import type { Service, ServiceSchema } from "moleculer";
import type { AppContext } from "../lib/app/context";
import type { LogName, Runtime } from "../lib/app/runtime";
import { Checkpoints } from "../lib/eventlog/checkpoints";
import { Runner } from "../lib/eventlog/runner";
import { eventsOf, type RecordedEvent } from "../lib/eventlog/types";
import { APPENDED_EVENT, type AppendedPayload } from "./event-sourced.mixin";

export interface SubscriptionOptions<S> {
  /** Checkpoint name; one runner per name in the whole cluster (leased). */
  name: string;
  log: LogName;
  /** Event types of interest; others are skipped without a call. */
  types: readonly string[];
  /** Reacts to one event. Must be idempotent by event id: after a crash the batch comes again. */
  handle(this: S, event: RecordedEvent): Promise<void>;
}

/**
 * A side effect that follows the log (geocoding, discography syncs, notifications...): the
 * same leased, checkpointed runner as projections, so nothing is lost when the service is
 * down and nothing runs twice at once.
 */
export function Subscription<S extends Service>(rt: Runtime, options: SubscriptionOptions<S>): Partial<ServiceSchema> {
  let runner: Runner | null = null;
  const types = new Set(options.types);
  return {
    events: {
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          if (ctx.params.log === options.log) runner?.wake();
        },
      },
    },
    async started(this: Service) {
      const service = this as S;
      runner = new Runner({
        ...rt.config.runners,
        name: options.name,
        log: rt.store.log(options.log),
        checkpoints: new Checkpoints(rt.store),
        owner: rt.instanceId,
        logger: this.logger,
        handle: async (commits) => {
          for (const commit of commits) {
            for (const event of eventsOf(commit)) if (types.has(event.type)) await options.handle.call(service, event);
          }
        },
      });
      const r = runner;
      rt.runners.add({
        name: options.name,
        kind: "subscription",
        status: async () => [await r.status()],
        resume: () => r.resume(),
        wake: (log) => log === options.log && r.wake(),
      });
      runner.start();
    },
    async stopped() {
      rt.runners.remove(options.name);
      await runner?.stop();
    },
  };
}
