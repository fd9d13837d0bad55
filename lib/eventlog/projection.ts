import type { DocWrite, Filter, IndexSpec, Store } from "../store/types";
import { eventsOf, type Commit, type RecordedEvent } from "./types";

/** Every read-model document remembers the last event applied to it. */
export interface ReadDoc {
  _id: string;
  _pos?: number;
  _idx?: number;
}

export interface ProjectionView<D extends ReadDoc> {
  get(id: string): Promise<D | null>;
  /** Documents matching a query (pending changes of this batch are written first). */
  find(filter: Filter): Promise<D[]>;
  put(doc: D): void;
  remove(id: string): void;
}

export interface Projection<D extends ReadDoc = ReadDoc> {
  /** Unique name, e.g. "catalogue.events". */
  name: string;
  /** The event log it reads. */
  log: string;
  /** Base collection name; generations live in `${collection}_g${n}`. */
  collection: string;
  indexes?: IndexSpec[];
  /**
   * Bumped when what the documents hold changes (a new field, a new meaning): a live
   * generation built by another version is rebuilt at start, queries reading it meanwhile.
   */
  version?: number;
  /**
   * Applies one event. A document missing on an update means it was deleted later in the
   * log (this is a replay): leave it missing.
   */
  apply(event: RecordedEvent, view: ProjectionView<D>): void | Promise<void>;
}

interface Entry<D> {
  doc: D | null;
  /** The guard of the stored version: writes are compare-and-set on it. */
  stored: { pos: number; idx: number } | null;
  dirty: boolean;
}

/**
 * Applies a batch of commits to a read model: documents are read once and changed in memory;
 * the changes come back as writes, each a compare-and-set on the guard it was read with, for
 * the runner to commit together with its checkpoint (one transaction in the embedded store).
 * An event at or below a document's guard was applied already and changes nothing, so where
 * the writes and the checkpoint cannot be one transaction (MongoDB) a replay is harmless.
 */
export async function applyBatch<D extends ReadDoc>(
  projection: Projection<D>,
  store: Store,
  collection: string,
  commits: readonly Commit[],
): Promise<DocWrite[]> {
  const docs = store.collection<D>(collection);
  const cache = new Map<string, Entry<D>>();
  let current: RecordedEvent | null = null;

  const load = async (id: string): Promise<Entry<D>> => {
    let entry = cache.get(id);
    if (!entry) {
      const doc = await docs.get(id);
      entry = { doc, stored: doc ? guardOf(doc) : null, dirty: false };
      cache.set(id, entry);
    }
    return entry;
  };
  const alreadyApplied = (doc: D | null, event: RecordedEvent): boolean =>
    !!doc && compareGuard(guardOf(doc), { pos: event.pos, idx: event.index }) >= 0;

  /** The changes so far as writes; the entries then count as stored. */
  const drain = (): DocWrite[] => {
    const writes: DocWrite[] = [];
    for (const [id, e] of cache) {
      if (!e.dirty) continue;
      const write = writeOf(collection, id, e);
      if (write) writes.push(write);
      e.stored = e.doc ? guardOf(e.doc) : null;
      e.dirty = false;
    }
    return writes;
  };

  const view: ProjectionView<D> = {
    get: async (id) => (await load(id)).doc,
    find: async (filter) => {
      // A query must see this batch's changes: they are committed first, on their own (the
      // guards make that safe should the rest of the batch be replayed).
      await store.write(drain());
      const found = await docs.find(filter);
      for (const doc of found) if (!cache.has(doc._id)) cache.set(doc._id, { doc, stored: guardOf(doc), dirty: false });
      return found.map((doc) => cache.get(doc._id)?.doc ?? doc).filter((d): d is D => d !== null);
    },
    put: (doc) => {
      const event = current!;
      const entry = cache.get(doc._id);
      if (!entry) throw new Error(`projection ${projection.name}: put(${doc._id}) without get() first`);
      if (alreadyApplied(entry.doc, event)) return;
      entry.doc = { ...doc, _pos: event.pos, _idx: event.index };
      entry.dirty = true;
    },
    remove: (id) => {
      const event = current!;
      const entry = cache.get(id);
      if (!entry) throw new Error(`projection ${projection.name}: remove(${id}) without get() first`);
      if (!entry.doc || alreadyApplied(entry.doc, event)) return;
      entry.doc = null;
      entry.dirty = true;
    },
  };

  for (const commit of commits) {
    for (const event of eventsOf(commit)) {
      current = event;
      await projection.apply(event, view);
    }
  }
  return drain();
}

/** A changed document as a compare-and-set write on the guard it was read with. */
function writeOf<D extends ReadDoc>(collection: string, id: string, entry: Entry<D>): DocWrite | null {
  const guard: Filter = entry.stored ? { _id: id, _pos: entry.stored.pos, _idx: entry.stored.idx } : { _id: id };
  if (!entry.doc) return entry.stored ? { collection, op: "delete", filter: guard } : null;
  if (!entry.stored) return { collection, op: "insert", doc: entry.doc };
  return { collection, op: "replace", filter: guard, doc: entry.doc };
}

function guardOf(doc: ReadDoc): { pos: number; idx: number } {
  return { pos: doc._pos ?? 0, idx: doc._idx ?? 0 };
}

function compareGuard(a: { pos: number; idx: number }, b: { pos: number; idx: number }): number {
  return a.pos - b.pos || a.idx - b.idx;
}

export function generationCollection(projection: Pick<Projection, "collection">, generation: number): string {
  return `${projection.collection}_g${generation}`;
}

export function checkpointName(projection: Pick<Projection, "name">, generation: number): string {
  return `${projection.name}@g${generation}`;
}

/** Applies commits to a read model outside a runner (tests, tools): the writes committed at once. */
export async function projectInto<D extends ReadDoc>(
  projection: Projection<D>,
  store: Store,
  collection: string,
  commits: readonly Commit[],
): Promise<void> {
  await store.write(await applyBatch(projection, store, collection, commits));
}
