import type { DbAdapter } from "moleculer-db";
import { MemoryAdapter } from "moleculer-db";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import mongoose, { Schema } from "mongoose";
import type { Service, ServiceBroker } from "moleculer";
import type { Runtime } from "../lib/app/runtime";
import { EmbeddedStore } from "../lib/store/embedded/embedded-store";

/** MemoryAdapter promisifies methods on the Datastore it gets: it must wrap each one once. */
const memoryAdapters = new WeakMap<object, DbAdapter>();

/**
 * A moleculer-db adapter that reads whichever generation of a projection is live. It holds a
 * stock adapter (MemoryAdapter over the embedded store's NeDB, MongooseAdapter over the shared
 * mongoose connection) and swaps it when a rebuild switches collections. Everything else is
 * delegated, so moleculer-db's list/find/count/get work unchanged.
 */
export class SwitchingAdapter {
  private broker!: ServiceBroker;
  private service!: Service;
  private inner: DbAdapter | null = null;
  private collection: string | null = null;

  constructor(private readonly rt: Runtime) {
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (prop in target) return Reflect.get(target, prop, receiver);
        const inner = target.inner as unknown as Record<string | symbol, unknown> | null;
        if (!inner) throw new Error(`read model is not connected yet (${String(prop)})`);
        const value = inner[prop];
        return typeof value === "function" ? value.bind(inner) : value;
      },
    });
  }

  init(broker: ServiceBroker, service: Service): void {
    this.broker = broker;
    this.service = service;
  }

  /** The store owns the connection: nothing to open here until a collection is chosen. */
  async connect(): Promise<void> {}

  /** The store closes the shared connection; the stock adapters would close it under others. */
  async disconnect(): Promise<void> {}

  async use(collection: string): Promise<void> {
    if (collection === this.collection) return;
    const adapter = this.create(collection);
    adapter.init(this.broker, this.service);
    await adapter.connect();
    this.inner = adapter;
    this.collection = collection;
  }

  private create(collection: string): DbAdapter {
    const { store } = this.rt;
    if (store instanceof EmbeddedStore) {
      const datastore = store.collection(collection).datastore;
      let adapter = memoryAdapters.get(datastore);
      if (!adapter) memoryAdapters.set(datastore, (adapter = new MemoryAdapter(datastore) as unknown as DbAdapter));
      return adapter;
    }
    const uri = this.rt.config.store.kind === "mongo" ? this.rt.config.store.uri : "";
    const model =
      mongoose.models[collection] ??
      mongoose.model(collection, new Schema({ _id: String }, { strict: false, collection, versionKey: false }));
    // The adapter reads `model` from the service schema it is initialised with.
    const adapter = new MongooseAdapter(uri) as unknown as DbAdapter & { init(b: ServiceBroker, s: unknown): void };
    const init = adapter.init.bind(adapter);
    adapter.init = (broker: ServiceBroker) =>
      init(broker, { schema: { model }, settings: this.service.settings, logger: this.service.logger });
    return adapter;
  }
}
