import { Errors, type ServiceBroker, type ServiceSchema } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { RunnerKind } from "../../lib/app/runner-registry";
import type { ParkedControl, SubscriptionParked } from "../../lib/eventlog/parked-keys";
import type { RunnerStatus } from "../../lib/eventlog/runner";

interface ParkedKeyParams {
  subscription: string;
  key: string;
}

export interface NodeRunners {
  nodeID: string;
  runners: Array<RunnerStatus & { runner: string; kind: RunnerKind }>;
  store: { kind: string; ok: boolean; error?: string };
  /** Services this node is configured to run that have not started (yet, or any more). */
  notStarted: string[];
}

function notParked(subscription: string, key: string): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(`key ${key} of ${subscription} is not parked`, 404, "NOT_PARKED");
}

/**
 * One per process: reports and steers the runners hosted here. Not reachable from HTTP except
 * through the gateway's readiness summary; the REPL calls it on every node.
 */
export default function runnersService(rt: Runtime): ServiceSchema {
  function controlOf(subscription: string): ParkedControl {
    const control = rt.runners.get(subscription)?.parked;
    if (!control) {
      throw new Errors.MoleculerClientError(`no subscription ${subscription} partitioned by key on this node`, 404, "NOT_FOUND");
    }
    return control;
  }

  return {
    name: "runners",
    actions: {
      status: {
        visibility: "public",
        async handler(this: { broker: ServiceBroker }): Promise<NodeRunners> {
          const runners = await Promise.all(
            rt.runners
              .list()
              .map(async (entry) => (await entry.status()).map((s) => ({ ...s, runner: entry.name, kind: entry.kind }))),
          );
          const store = await rt.store.ping().then(
            () => ({ kind: rt.store.kind, ok: true }),
            (err: Error) => ({ kind: rt.store.kind, ok: false, error: err.message }),
          );
          // A service is registered once its started() has finished (its state loaded).
          const running = new Set(
            (this.broker.registry.getServiceList({ onlyLocal: true, onlyAvailable: true }) as Array<{ name: string }>).map(
              (s) => s.name,
            ),
          );
          const notStarted = rt.config.services.filter((name) => !running.has(name));
          return { nodeID: this.broker.nodeID, runners: runners.flat(), store, notStarted };
        },
      },
      rebuild: {
        visibility: "public",
        params: { name: "string" },
        async handler(ctx: AppContext<{ name: string }>) {
          const entry = rt.runners.get(ctx.params.name);
          if (!entry?.rebuild)
            throw new Errors.MoleculerClientError(`no projection ${ctx.params.name} on this node`, 404, "NOT_FOUND");
          return { projection: entry.name, generation: await entry.rebuild() };
        },
      },
      parked: {
        visibility: "public",
        async handler(): Promise<SubscriptionParked[]> {
          const controls = rt.runners.list().flatMap(({ name, parked }) => (parked ? [{ name, parked }] : []));
          return Promise.all(controls.map(async ({ name, parked }) => ({ subscription: name, keys: await parked.list() })));
        },
      },
      retryParked: {
        visibility: "public",
        params: { subscription: "string", key: "string" },
        async handler(ctx: AppContext<ParkedKeyParams>) {
          const { subscription, key } = ctx.params;
          const parked = await controlOf(subscription).retry(key);
          if (!parked) throw notParked(subscription, key);
          return { subscription, parked };
        },
      },
      skipParked: {
        visibility: "public",
        params: { subscription: "string", key: "string", reason: { type: "string", min: 3, max: 500 }, actor: "string" },
        async handler(ctx: AppContext<ParkedKeyParams & { reason: string; actor: string }>) {
          const { subscription, key, reason, actor } = ctx.params;
          const result = await controlOf(subscription).skip(key, reason, actor);
          if (!result) throw notParked(subscription, key);
          return { subscription, ...result };
        },
      },
      resume: {
        visibility: "public",
        params: { name: "string" },
        handler(ctx: AppContext<{ name: string }>) {
          const entry = rt.runners.get(ctx.params.name);
          if (!entry) throw new Errors.MoleculerClientError(`no runner ${ctx.params.name} on this node`, 404, "NOT_FOUND");
          entry.resume();
          return { runner: entry.name, resumed: true };
        },
      },
    },
  };
}
