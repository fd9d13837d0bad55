import type { Decider } from "../../lib/eventlog/decider";
import { DomainError } from "../../lib/eventlog/decider";
import type { Projection, ReadDoc } from "../../lib/eventlog/projection";

/** A tiny domain for exercising the core: counters that can be incremented up to a limit. */
export type CounterEvent = { type: "Incremented"; data: { key: string; by: number } };
export type CounterCommand = { key: string; by: number; limit?: number };
export interface CounterState {
  total: number;
}

export const counterDecider: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ total: 0 }),
  decide: (command, state) => {
    if (command.limit !== undefined && state.total + command.by > command.limit) {
      throw new DomainError("LIMIT_REACHED", `counter ${command.key} would pass ${command.limit}`, 409);
    }
    return [{ type: "Incremented", data: { key: command.key, by: command.by } }];
  },
  evolve: (state, event) => ({ total: state.total + event.data.by }),
};

export interface CounterDoc extends ReadDoc {
  total: number;
  increments: number;
  lastPos: number;
}

export function counterProjection(name = "test.counters", log = "test"): Projection<CounterDoc> {
  return {
    name,
    log,
    collection: name.replace(/\./g, "_"),
    apply: async (event, view) => {
      if (event.type !== "Incremented") return;
      const { key, by } = event.data as CounterEvent["data"];
      const doc = (await view.get(key)) ?? { _id: key, total: 0, increments: 0, lastPos: 0 };
      view.put({ ...doc, total: doc.total + by, increments: doc.increments + 1, lastPos: event.pos });
    },
  };
}

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
