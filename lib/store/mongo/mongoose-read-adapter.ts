import type { DbAdapter } from "moleculer-db";
import type { Service, ServiceBroker } from "moleculer";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import mongoose, { Schema } from "mongoose";
import { MONGO_CONNECT_OPTIONS } from "./mongo-store";

/**
 * moleculer-db's stock MongooseAdapter over one collection of the shared mongoose connection,
 * read-only: the store creates the collection and its indexes.
 */
export function mongooseReadAdapter(uri: string, collection: string, service: Service): DbAdapter {
  // Mongoose's own create on model init would be refused (NamespaceExists) on every start by
  // MongoDB and FerretDB. strictQuery off, on the schema: moleculer-db-adapter-mongoose turns
  // it on for the whole process when it is loaded, and with this schema's single path every
  // condition of a query (`{userId}` of "my orders", `{startsAt: {$gt}}`...) would be dropped
  // before it is sent, answering every document of the collection.
  const schema = new Schema(
    { _id: String },
    { strict: false, strictQuery: false, collection, versionKey: false, autoCreate: false, autoIndex: false },
  );
  const model = mongoose.models[collection] ?? mongoose.model(collection, schema);
  // The stock adapter reads `model` from the service schema it is initialised with. Our
  // connection options too: should the adapter ever (re)connect, it must not start sending
  // undefined as null.
  const adapter = new MongooseAdapter(uri, MONGO_CONNECT_OPTIONS) as unknown as DbAdapter;
  const init = adapter.init.bind(adapter) as (broker: ServiceBroker, service: unknown) => void;
  adapter.init = (broker: ServiceBroker) =>
    init(broker, { schema: { model }, settings: service.settings, logger: service.logger });
  return adapter;
}
