import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { AggregateCache } from "../../lib/eventlog/aggregate-cache";
import { eventDecider } from "./events.decider";
import type { EventState, EventStreamEvent } from "./events.types";

/** Events as their streams say now, kept folded: every order of an on-sale reads the same one. */
export type EventAggregates = AggregateCache<EventStreamEvent, EventState>;

const perRuntime = new WeakMap<Runtime, EventAggregates>();

/** The process's one cache of events (the orders and the waiting room share it where both run). */
export function eventAggregates(rt: Runtime): EventAggregates {
  let events = perRuntime.get(rt);
  if (!events) perRuntime.set(rt, (events = new AggregateCache(rt.store.log(CATALOGUE_LOG), eventDecider)));
  return events;
}
