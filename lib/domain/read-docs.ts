import type { ProjectionView, ReadDoc } from "../eventlog/projection";

/** Read documents that show when they last changed. */
export interface TimedDoc extends ReadDoc {
  updatedAt: number;
}

/** Writes a new document. put() needs the document read first; on a replay the stored one is newer and wins. */
export async function insertDoc<D extends ReadDoc>(view: ProjectionView<D>, doc: D): Promise<void> {
  await view.get(doc._id);
  view.put(doc);
}

/** Changes a document; a missing one was deleted later in the log (this is a replay): it stays missing. */
export async function updateDoc<D extends TimedDoc>(
  view: ProjectionView<D>,
  id: string,
  at: number,
  update: (doc: D) => D,
): Promise<void> {
  const doc = await view.get(id);
  if (doc) view.put({ ...update(doc), updatedAt: at });
}
