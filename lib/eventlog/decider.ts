import { VersionConflictError } from "../store/types";
import type { Commit, EventLog, EventMeta, NewEvent } from "./types";

/**
 * A decider is the whole domain logic of one aggregate as plain functions: no I/O, no clock
 * (time arrives inside the command), so it can be tested with nothing but values.
 */
export interface Decider<C, E extends NewEvent, S> {
  initialState(): S;
  /** Returns the events the command produces, or throws a DomainError. No events = no-op. */
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
}

/**
 * A rule of the domain said no. `type` is stable (clients branch on it); `status` is HTTP.
 * A refusal is an answer, not a fault: no stack trace is captured (SOLD_OUT and SEAT_TAKEN are
 * most of an on-sale's answers, and a trace costs more than the decision).
 */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly type: string,
    message: string,
    readonly status = 422,
    readonly data?: Record<string, unknown>,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** Builds an error without capturing a stack trace (for expected refusals). */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export interface CommandOptions {
  commandId?: string;
  meta?: EventMeta;
  /** Attempts when another writer got to the stream first. */
  maxAttempts?: number;
}

export interface CommandResult<S> {
  state: S;
  /** The stream's version after the command. */
  seq: number;
  /** The commit written (or found, for a repeated command id); null for a no-op. */
  commit: Commit | null;
  duplicate: boolean;
}

export function fold<E extends NewEvent, S>(
  decider: Pick<Decider<unknown, E, S>, "evolve">,
  state: S,
  commits: readonly Commit[],
): S {
  let current = state;
  for (const commit of commits) {
    for (const event of commit.events) current = decider.evolve(current, event as unknown as E);
  }
  return current;
}

/**
 * Load, decide, append with the expected version; on a version conflict (and only then) load
 * again and decide again, because the rule may now say something else.
 */
export async function handleCommand<C, E extends NewEvent, S>(
  log: EventLog,
  decider: Decider<C, E, S>,
  stream: string,
  command: C,
  options: CommandOptions = {},
): Promise<CommandResult<S>> {
  const maxAttempts = options.maxAttempts ?? 12;
  if (options.commandId) {
    const first = await log.findByCommandId(options.commandId);
    if (first) return replayed(log, decider, first);
  }
  for (let attempt = 1; ; attempt++) {
    const commits = await log.readStream(stream);
    const seq = commits.length ? commits[commits.length - 1].seq : 0;
    const state = fold(decider, decider.initialState(), commits);
    const events = decider.decide(command, state);
    if (events.length === 0) return { state, seq, commit: null, duplicate: false };
    try {
      const { commit, duplicate } = await log.append({
        stream,
        expectedSeq: seq,
        events,
        commandId: options.commandId,
        meta: options.meta,
      });
      if (duplicate) return replayed(log, decider, commit);
      return { state: events.reduce(decider.evolve, state), seq: commit.seq, commit, duplicate: false };
    } catch (err) {
      if (!(err instanceof VersionConflictError) || attempt >= maxAttempts) throw err;
      // Jitter spreads the writers that lost together, so they do not collide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

async function replayed<C, E extends NewEvent, S>(
  log: EventLog,
  decider: Decider<C, E, S>,
  commit: Commit,
): Promise<CommandResult<S>> {
  const upTo = (await log.readStream(commit.stream)).filter((c) => c.seq <= commit.seq);
  return { state: fold(decider, decider.initialState(), upTo), seq: commit.seq, commit, duplicate: true };
}

/** The current state of an aggregate, from the write side (commands never read projections). */
export async function loadAggregate<E extends NewEvent, S>(
  log: EventLog,
  decider: Pick<Decider<unknown, E, S>, "evolve" | "initialState">,
  stream: string,
): Promise<S> {
  return fold(decider, decider.initialState(), await log.readStream(stream));
}
