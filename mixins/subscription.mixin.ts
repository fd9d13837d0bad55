import type { Service, ServiceSchema } from "moleculer";
import type { AppContext } from "../lib/app/context";
import type { LogName, Runtime } from "../lib/app/runtime";
import { Checkpoints } from "../lib/eventlog/checkpoints";
import { ParkedKeys } from "../lib/eventlog/parked-keys";
import { PartitionedHandler } from "../lib/eventlog/partitioned-handler";
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
   * `concurrency`), and a key that keeps failing is parked (retried with backoff, steerable from
   * the REPL) while the others flow. Without it, everything runs one at a time in log order and
   * an event that keeps failing halts the subscription.
   */
  partitionBy?(event: RecordedEvent): string;
  concurrency?: number;
}

/**
 * The key of most per-key side effects: the aggregate (stream) the event belongs to, whose
 * events keep their order while other aggregates run side by side.
 */
export function byStream(event: RecordedEvent): string {
  return event.stream;
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
      const log = rt.store.log(options.log);
      const run = (event: RecordedEvent) => options.handle.call(service, event);
      const partitioned = options.partitionBy
        ? new PartitionedHandler({
            ...rt.config.runners,
            subscription: options.name,
            log,
            parked: new ParkedKeys(rt.store, options.name),
            select: (event) => types.has(event.type),
            key: options.partitionBy,
            run,
            concurrency: options.concurrency ?? 16,
            logger: this.logger,
          })
        : undefined;
      runner = new Runner({
        ...rt.config.runners,
        name: options.name,
        log,
        checkpoints: new Checkpoints(rt.store),
        owner: rt.instanceId,
        logger: this.logger,
        relevant: (commit) => commit.events.some((event) => types.has(event.type)),
        handle: partitioned
          ? (commits) => partitioned.handle(commits)
          : async (commits) => {
              const events = commits.flatMap((commit) => eventsOf(commit)).filter((event) => types.has(event.type));
              for (const event of events) await run(event);
            },
        parking: partitioned,
      });
      const r = runner;
      rt.runners.add({
        name: options.name,
        kind: "subscription",
        status: async () => [await r.status()],
        resume: () => r.resume(),
        wake: (log) => log === options.log && r.wake(),
        parked: partitioned?.control(() => r.wake()),
      });
      runner.start();
    },
    async stopped() {
      rt.runners.remove(options.name);
      await runner?.stop();
    },
  };
}
