import { WriteConflictError, type Doc, type DocCollection, type DocWrite } from "./types";

/** One write through the collection interface; false when its compare-and-set matched nothing. */
async function applyWrite(collection: DocCollection<Doc>, write: DocWrite): Promise<boolean> {
  switch (write.op) {
    case "insert":
      await collection.insert(write.doc);
      return true;
    case "replace":
      return collection.replaceOne(write.filter, write.doc);
    case "update":
      return collection.updateOne(write.filter, write.set);
    case "delete":
      return collection.deleteOne(write.filter);
  }
}

/** The writes one after another, stopping at the first that matched nothing (no rollback). */
export async function applyInOrder(
  collectionOf: (name: string) => DocCollection<Doc>,
  writes: readonly DocWrite[],
): Promise<void> {
  for (const write of writes) {
    if (!(await applyWrite(collectionOf(write.collection), write))) throw new WriteConflictError(write);
  }
}
