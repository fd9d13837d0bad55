import mongoose, { type Connection } from "mongoose";
import type { Commit, EventLog, EventLogHooks } from "../../eventlog/types";
import { applyInOrder } from "../doc-writes";
import type { Doc, DocWrite, Store } from "../types";
import { MongoCollection } from "./mongo-collection";
import { MongoLog } from "./mongo-log";

export interface MongoStoreOptions {
  uri: string;
  /**
   * Use mongoose's default connection. The app does, because moleculer-db-adapter-mongoose
   * works on it; tests that open several stores in one process use their own connections.
   */
  sharedConnection?: boolean;
  hooks?: EventLogHooks;
}

/**
 * Options of every connection to MongoDB we open (the store's and moleculer-db's adapter).
 *
 * `ignoreUndefined`: by default the driver encodes an `undefined` value as BSON null, so an
 * option object or document built with optional fields (`{ unique: spec.unique }`) sends
 * `unique: null`, which mongod and FerretDB refuse ("not convertible to bool") while the
 * lenient test server accepted it. Left out, an undefined field means what it means in
 * TypeScript and in the embedded store: absent.
 */
export const MONGO_CONNECT_OPTIONS = { serverSelectionTimeoutMS: 10_000, ignoreUndefined: true } as const;

/** Commits of context X live in collection `X_commits`. */
export function commitsCollection(log: string): string {
  return `${log}_commits`;
}

export class MongoStore implements Store {
  readonly kind = "mongo" as const;
  private readonly logs = new Map<string, MongoLog>();

  private constructor(
    readonly connection: Connection,
    private readonly options: MongoStoreOptions,
  ) {}

  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const connection = options.sharedConnection
      ? (await mongoose.connect(options.uri, MONGO_CONNECT_OPTIONS)).connection
      : await mongoose.createConnection(options.uri, MONGO_CONNECT_OPTIONS).asPromise();
    return new MongoStore(connection, options);
  }

  log(name: string): EventLog {
    let log = this.logs.get(name);
    if (!log) {
      log = new MongoLog(name, this.db().collection<Commit>(commitsCollection(name)), this.options.hooks);
      this.logs.set(name, log);
    }
    return log;
  }

  collection<T extends Doc>(name: string): MongoCollection<T> {
    return new MongoCollection<T>(name, this.db().collection<T>(name));
  }

  /** One write after another: MongoDB transactions need a replica set, which we do not require. */
  write(writes: readonly DocWrite[]): Promise<void> {
    return applyInOrder((name) => this.collection(name), writes);
  }

  async ping(): Promise<void> {
    await this.db().command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private db() {
    const db = this.connection.db;
    if (!db) throw new Error("MongoDB connection is not open");
    return db;
  }
}
