/**
 * Child process for the saga crash test: the quick start's services (startApp, as bin/start.ts
 * runs them), killed with SIGKILL at one point of the order saga. SAGA_CRASH names it:
 * `<before|after>:<action>[|<action>...]:<eventId>` kills the process just before one of these
 * actions is called for that event, or right after such a call returned (its effect is
 * written, what the caller meant to do next is not). Without SAGA_CRASH it just runs.
 */
import { ServiceBroker } from "moleculer";
import { startApp } from "../../lib/app/app";

function armCrash(spec: string): void {
  const [when, actions, eventId] = spec.split(":");
  if ((when !== "before" && when !== "after") || !actions || !eventId) throw new Error(`SAGA_CRASH: bad point ${spec}`);
  const names = new Set(actions.split("|"));
  const die = () => process.kill(process.pid, "SIGKILL");
  const call = ServiceBroker.prototype.call;
  // Every call (ctx.call too) goes through broker.call, which the broker wraps once it is built.
  ServiceBroker.prototype.call = function (this: ServiceBroker, name: string, params?: unknown, opts?: unknown) {
    const hit = names.has(name) && (params as { eventId?: string } | undefined)?.eventId === eventId;
    if (hit && when === "before") die();
    const result = (call as (n: string, p?: unknown, o?: unknown) => Promise<unknown>).call(this, name, params, opts);
    return hit && when === "after" ? result.then((value) => (die(), value)) : result;
  } as ServiceBroker["call"];
}

if (process.env.SAGA_CRASH) armCrash(process.env.SAGA_CRASH);
startApp().catch((err: unknown) => {
  console.error("failed to start:", err);
  process.exit(1);
});
