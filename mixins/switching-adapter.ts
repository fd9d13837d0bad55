import type { DbAdapter } from "moleculer-db";
import type { Service, ServiceBroker } from "moleculer";
import type { Runtime } from "../lib/app/runtime";
import { EmbeddedStore } from "../lib/store/embedded/embedded-store";
import { CollectionReadAdapter } from "../lib/store/embedded/read-adapter";

/** The adapter methods moleculer-db's query actions use. */
const DELEGATED = [
  "find",
  "findOne",
  "findById",
  "findByIds",
  "count",
  "entityToObject",
  "beforeSaveTransformID",
  "afterRetrieveTransformID",
] as const;

type Delegated = Pick<DbAdapter, (typeof DELEGATED)[number]>;

/**
 * A moleculer-db adapter that reads whichever generation of a projection is live. It holds a
 * adapter (ours over the embedded store's SQLite tables, the stock MongooseAdapter over the shared
 * mongoose connection) and swaps it when a rebuild switches collections.
 *
 * Moleculer deep-clones service schemas, this adapter included, so it starts empty: the
 * service attaches the runtime to its own (cloned) instance when it starts.
 */
export class SwitchingAdapter {
  private broker: ServiceBroker | null = null;
  private service: Service | null = null;
  private rt: Runtime | null = null;
  private inner: DbAdapter | null = null;
  private collection: string | null = null;

  init(broker: ServiceBroker, service: Service): void {
    this.broker = broker;
    this.service = service;
  }

  /** The store owns the connection: nothing to open until a collection is chosen. */
  async connect(): Promise<void> {}

  /** The store closes the shared connection; the stock adapters would close it under others. */
  async disconnect(): Promise<void> {}

  attach(rt: Runtime): void {
    this.rt = rt;
  }

  async use(collection: string): Promise<void> {
    if (collection === this.collection) return;
    const adapter = this.create(collection);
    adapter.init(this.broker!, this.service!);
    await adapter.connect();
    this.inner = adapter;
    this.collection = collection;
  }

  current(): DbAdapter {
    if (!this.inner) throw new Error(`read model of ${this.service?.name} is not connected yet`);
    return this.inner;
  }

  private create(collection: string): DbAdapter {
    const rt = this.rt;
    if (!rt) throw new Error("SwitchingAdapter.use() before attach()");
    if (rt.store instanceof EmbeddedStore) {
      return new CollectionReadAdapter(rt.store.collection(collection)) as unknown as DbAdapter;
    }
    const uri = rt.config.store.kind === "mongo" ? rt.config.store.uri : "";
    // Loaded only here: mongoose takes most of a second to load, which the quick start never needs.
    const { mongooseReadAdapter } =
      require("../lib/store/mongo/mongoose-read-adapter") as typeof import("../lib/store/mongo/mongoose-read-adapter");
    return mongooseReadAdapter(uri, collection, this.service!);
  }
}

export interface SwitchingAdapter extends Delegated {}
for (const method of DELEGATED) {
  Object.defineProperty(SwitchingAdapter.prototype, method, {
    value(this: SwitchingAdapter, ...args: unknown[]) {
      const inner = this.current() as unknown as Record<string, (...a: unknown[]) => unknown>;
      return inner[method](...args);
    },
  });
}
