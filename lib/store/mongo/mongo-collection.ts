import type { mongo } from "mongoose";
import { DuplicateKeyError, type Doc, type DocCollection, type Filter, type FindOptions, type IndexSpec } from "../types";
import { isDuplicateKey } from "./mongo-errors";

export class MongoCollection<T extends Doc> implements DocCollection<T> {
  constructor(
    readonly name: string,
    private readonly collection: mongo.Collection<T>,
  ) {}

  async get(id: string): Promise<T | null> {
    return (await this.collection.findOne(byId<T>(id))) as T | null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.collection.find(filter as mongo.Filter<T>);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return (await cursor.toArray()) as T[];
  }

  async count(filter: Filter): Promise<number> {
    return this.collection.countDocuments(filter as mongo.Filter<T>);
  }

  async insert(doc: T): Promise<void> {
    try {
      await this.collection.insertOne(doc as mongo.OptionalUnlessRequiredId<T>);
    } catch (err) {
      throw translate(this.name, err, doc._id);
    }
  }

  async upsert(doc: T): Promise<void> {
    await this.collection.replaceOne(byId<T>(doc._id), doc as mongo.WithoutId<T>, { upsert: true });
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    try {
      const result = await this.collection.replaceOne(filter as mongo.Filter<T>, doc as mongo.WithoutId<T>);
      return result.matchedCount > 0;
    } catch (err) {
      throw translate(this.name, err, doc._id);
    }
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    try {
      const result = await this.collection.updateOne(filter as mongo.Filter<T>, { $set: set as Partial<T> });
      return result.matchedCount > 0;
    } catch (err) {
      throw translate(this.name, err, String(filter._id));
    }
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return (await this.collection.deleteOne(filter as mongo.Filter<T>)).deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return (await this.collection.deleteMany(filter as mongo.Filter<T>)).deletedCount;
  }

  async ensureIndex(spec: IndexSpec): Promise<void> {
    // Only the options asked for: a real MongoDB refuses `unique: null` (see MONGO_CONNECT_OPTIONS).
    await this.collection.createIndex(
      { [spec.field]: 1 },
      { ...(spec.unique ? { unique: true } : {}), ...(spec.sparse ? { sparse: true } : {}) },
    );
  }

  async drop(): Promise<void> {
    await this.collection.drop().catch((err: { code?: number; message?: string }) => {
      // Dropping what is not there is fine: NamespaceNotFound (26), or only its message
      // from servers that send no code.
      if (err.code !== 26 && err.message !== "ns not found") throw err;
    });
  }
}

function byId<T extends Doc>(id: string): mongo.Filter<T> {
  return { _id: id } as mongo.Filter<T>;
}

function translate(collection: string, err: unknown, key: string): unknown {
  return isDuplicateKey(err) ? new DuplicateKeyError(collection, key) : err;
}
