import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventLogHooks } from "../../lib/eventlog/types";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { MongoStore } from "../../lib/store/mongo/mongo-store";
import type { Store, StoreKind } from "../../lib/store/types";

/**
 * The embedded store and the lenient MongoDB-protocol server (mongo-java-server): for suites
 * that FerretDB's known limits make meaningless there (lease races, range-scan-bound speed).
 */
export const BACKENDS: StoreKind[] = ["embedded", "mongo"];

/**
 * Also FerretDB ("ferret"), the MongoDB-protocol server that refuses what mongod refuses:
 * every other store suite (README, "Test servers").
 */
export const STRICT_BACKENDS: TestBackend[] = [...BACKENDS, "ferret"];

/** A store kind of the app, with its MongoDB one on either test server. */
export type TestBackend = StoreKind | "ferret";

export interface TestStoreOptions {
  logs?: string[];
  hooks?: EventLogHooks;
  /** Embedded: reuse a data directory (to reopen after a crash). Mongo: reuse a database. */
  location?: string;
  /** Embedded only: keep everything in memory. */
  memory?: boolean;
}

export interface TestStore {
  store: Store;
  /** Where the data lives, to reopen the same store. */
  location: string;
}

export async function openTestStore(kind: TestBackend, options: TestStoreOptions = {}): Promise<TestStore> {
  const logs = options.logs ?? ["test"];
  if (kind === "embedded") {
    const dataDir = options.memory ? undefined : (options.location ?? mkdtempSync(join(tmpdir(), "store-")));
    const store = await EmbeddedStore.open({ dataDir, logs, hooks: options.hooks });
    return { store, location: dataDir ?? "" };
  }
  const db = options.location ?? `t_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  // Loaded here so embedded-only runs do not need the servers' settings.
  const { mongoServerUri } = await import("./infra");
  const store = await MongoStore.open({ uri: mongoServerUri(kind, db), hooks: options.hooks });
  return { store, location: db };
}

/** Closes the store and, for MongoDB, drops its database. */
export async function disposeTestStore({ store }: TestStore): Promise<void> {
  if (store instanceof MongoStore) await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
}
