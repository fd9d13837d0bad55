import { fold, type Decider } from "./decider";
import type { EventLog, NewEvent } from "./types";

interface Held<S> {
  state: S;
  seq: number;
}

/**
 * Aggregates read on every request and changed rarely (the event on sale, read by every order
 * placed for it), kept folded in memory. Always current: each load asks the log for the
 * commits after the version held (one indexed read, nearly always empty) and folds only
 * those, instead of reading and folding the whole stream.
 *
 * Only for deciders whose evolve returns a new state and never changes the one it is given:
 * the state held is handed to every caller. Bounded: the least recently used goes first.
 */
export class AggregateCache<E extends NewEvent, S> {
  private readonly held = new Map<string, Held<S>>();

  constructor(
    private readonly log: EventLog,
    private readonly decider: Pick<Decider<unknown, E, S>, "evolve" | "initialState">,
    private readonly size = 1000,
  ) {}

  async load(stream: string): Promise<S> {
    const entry = this.held.get(stream);
    const commits = await this.log.readStream(stream, entry?.seq ?? 0);
    if (commits.length === 0) {
      if (!entry) return this.decider.initialState();
      this.held.delete(stream);
      this.held.set(stream, entry);
      return entry.state;
    }
    const state = fold(this.decider, entry?.state ?? this.decider.initialState(), commits);
    const seq = commits[commits.length - 1].seq;
    // A slower concurrent load that saw fewer commits must not put an older version back.
    const now = this.held.get(stream);
    if (!now || now.seq < seq) {
      this.held.delete(stream);
      if (this.held.size >= this.size) this.held.delete(this.held.keys().next().value!);
      this.held.set(stream, { state, seq });
    }
    return state;
  }
}
