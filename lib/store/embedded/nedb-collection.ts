import Datastore from "@seald-io/nedb";
import { DuplicateKeyError, type Doc, type DocCollection, type Filter, type FindOptions, type IndexSpec } from "../types";

/**
 * A document collection on NeDB. The same Datastore instance is handed to moleculer-db's
 * MemoryAdapter for the read-side queries, so writes here are seen there at once. Only the
 * *Async methods are used: MemoryAdapter replaces the callback ones on the shared instance.
 */
export class NedbCollection<T extends Doc> implements DocCollection<T> {
  constructor(
    readonly name: string,
    readonly datastore: Datastore<T>,
    private readonly onDrop: () => void = () => undefined,
  ) {}

  async get(id: string): Promise<T | null> {
    return (await this.datastore.findOneAsync({ _id: id }).execAsync()) ?? null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.datastore.findAsync(filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.execAsync();
  }

  async count(filter: Filter): Promise<number> {
    return this.datastore.countAsync(filter).execAsync();
  }

  async insert(doc: T): Promise<void> {
    try {
      await this.datastore.insertAsync(doc);
    } catch (err) {
      throw translate(this.name, err);
    }
  }

  async upsert(doc: T): Promise<void> {
    await this.datastore.updateAsync({ _id: doc._id }, doc, { upsert: true });
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    try {
      const { numAffected } = await this.datastore.updateAsync(filter, doc, { multi: false });
      return numAffected > 0;
    } catch (err) {
      throw translate(this.name, err);
    }
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    try {
      const { numAffected } = await this.datastore.updateAsync(filter, { $set: set }, { multi: false });
      return numAffected > 0;
    } catch (err) {
      throw translate(this.name, err);
    }
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return (await this.datastore.removeAsync(filter, { multi: false })) > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return this.datastore.removeAsync(filter, { multi: true });
  }

  async ensureIndex(spec: IndexSpec): Promise<void> {
    await this.datastore.ensureIndexAsync({ fieldName: spec.field, unique: spec.unique, sparse: spec.sparse });
  }

  /** A dropped datastore is finished (NeDB never settles a later compaction of it). */
  async drop(): Promise<void> {
    this.datastore.stopAutocompaction();
    await this.datastore.dropDatabaseAsync();
    this.onDrop();
  }
}

function translate(collection: string, err: unknown): unknown {
  if (err && typeof err === "object" && (err as { errorType?: string }).errorType === "uniqueViolated") {
    return new DuplicateKeyError(collection, String((err as { key?: unknown }).key));
  }
  return err;
}
