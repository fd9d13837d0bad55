import { Errors, type ServiceBroker, type ServiceSchema } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { RunnerKind } from "../../lib/app/runner-registry";
import type { RunnerStatus } from "../../lib/eventlog/runner";

export interface NodeRunners {
  nodeID: string;
  runners: Array<RunnerStatus & { runner: string; kind: RunnerKind }>;
  store: { kind: string; ok: boolean; error?: string };
  /** Services this node is configured to run that have not started (yet, or any more). */
  notStarted: string[];
}

/**
 * One per process: reports and steers the runners hosted here. Not reachable from HTTP except
 * through the gateway's readiness summary; the REPL calls it on every node.
 */
export default function runnersService(rt: Runtime): ServiceSchema {
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
