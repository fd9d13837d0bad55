import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { DbServiceSettings } from "moleculer-db";
import DbService from "moleculer-db";
import type { AppContext } from "../lib/app/context";
import type { Runtime } from "../lib/app/runtime";
import { ProjectionHost } from "../lib/eventlog/projection-host";
import type { Projection, ReadDoc } from "../lib/eventlog/projection";
import { APPENDED_EVENT, type AppendedPayload } from "./event-sourced.mixin";
import { SwitchingAdapter } from "./switching-adapter";

export const SWITCHED_EVENT = "projections.switched";

export interface ReadModelOptions<D extends ReadDoc> {
  projection: Projection<D>;
  /** What clients may see of a document; the guard fields (_pos, _idx) are never in it. */
  fields: string[];
  pageSize?: number;
  maxPageSize?: number;
}

export interface ReadModelMethods {
  /** Waits (bounded) until this read model reflects log position `pos`. */
  waitForPosition(pos: number | undefined): Promise<void>;
}

const READ_YOUR_WRITES_MS = 3000;
const REFRESH_MS = 5000;

/**
 * The query side of a service: runs the projection (leased, so one replica applies it) and
 * exposes moleculer-db's list / find / count / get over its live collection. No write action
 * exists: the only writer is the projection.
 */
export function ReadModel<D extends ReadDoc>(rt: Runtime, options: ReadModelOptions<D>): Partial<ServiceSchema> {
  const { projection } = options;
  const adapter = new SwitchingAdapter(rt);
  let host: ProjectionHost | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;

  // `adapter` is moleculer-db's own schema property.
  const schema: Partial<ServiceSchema> & { adapter: SwitchingAdapter } = {
    mixins: [DbService as unknown as Partial<ServiceSchema>],
    adapter,
    settings: {
      idField: "_id",
      fields: options.fields,
      pageSize: options.pageSize ?? 20,
      maxPageSize: options.maxPageSize ?? 100,
      maxLimit: options.maxPageSize ?? 100,
    } satisfies DbServiceSettings as ServiceSettingSchema,
    actions: {
      create: false,
      insert: false,
      update: false,
      remove: false,
    },
    events: {
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          if (ctx.params.log === projection.log) host?.wake();
        },
      },
      [SWITCHED_EVENT]: {
        async handler(ctx: AppContext<{ projection: string }>) {
          if (ctx.params.projection === projection.name && host) await host.refresh();
        },
      },
    },
    methods: {
      async waitForPosition(pos: number | undefined): Promise<void> {
        if (pos && host) await host.waitFor(pos, READ_YOUR_WRITES_MS);
      },
    },
    async started(this: Service) {
      const broker = this.broker;
      host = new ProjectionHost({
        store: rt.store,
        projection: projection as unknown as Projection,
        owner: rt.instanceId,
        logger: this.logger,
        tuning: rt.config.runners,
        onSwitch: (collection) => {
          void adapter.use(collection).then(() => broker.broadcast(SWITCHED_EVENT, { projection: projection.name }));
        },
      });
      await host.start();
      await adapter.use(host.collection);
      const h = host;
      rt.runners.add({
        name: projection.name,
        kind: "projection",
        status: async () => (await h.status()).runners,
        resume: () => h.resume(),
        wake: (log) => log === projection.log && h.wake(),
        rebuild: () => h.rebuild(),
      });
      refreshTimer = setInterval(() => void h.refresh().catch(() => undefined), REFRESH_MS);
      refreshTimer.unref();
    },
    async stopped() {
      if (refreshTimer) clearInterval(refreshTimer);
      rt.runners.remove(projection.name);
      await host?.stop();
    },
  };
  return schema;
}
