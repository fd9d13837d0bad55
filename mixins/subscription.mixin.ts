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
  /**
   * Events with the same key are handled in order; different keys run side by side (up to
   * `concurrency`). Without it, everything runs one at a time in log order.
   */
  partitionBy?(event: RecordedEvent): string;
  concurrency?: number;
}

/** Runs each key's events in order, different keys concurrently, and resolves when all are done. */
async function inPartitions(
  events: RecordedEvent[],
  key: (e: RecordedEvent) => string,
  limit: number,
  run: (e: RecordedEvent) => Promise<void>,
): Promise<void> {
  const queues = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    const k = key(event);
    const queue = queues.get(k);
    if (queue) queue.push(event);
    else queues.set(k, [event]);
  }
  const pending = [...queues.values()];
  const worker = async () => {
    for (let queue = pending.shift(); queue; queue = pending.shift()) {
      for (const event of queue) await run(event);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, pending.length) }, worker));
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
          const events = commits.flatMap((commit) => eventsOf(commit)).filter((event) => types.has(event.type));
          const run = (event: RecordedEvent) => options.handle.call(service, event);
          if (!options.partitionBy) {
            for (const event of events) await run(event);
            return;
          }
          await inPartitions(events, options.partitionBy, options.concurrency ?? 16, run);
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
