import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { DbServiceSettings } from "moleculer-db";
import DbService from "moleculer-db";
import { pagingParams } from "../lib/app/actions";
import { notFound } from "../lib/app/errors";
import type { AppContext } from "../lib/app/context";
import type { Runtime } from "../lib/app/runtime";
import type { DocCollection } from "../lib/store/types";
import { escapeRegExp } from "../lib/domain/text";
import { ProjectionHost } from "../lib/eventlog/projection-host";
import type { Projection, ReadDoc } from "../lib/eventlog/projection";
import type { Decider } from "../lib/eventlog/decider";
import type { NewEvent } from "../lib/eventlog/types";
import { APPENDED_EVENT, type AppendedPayload, type EventSourcedMethods } from "./event-sourced.mixin";
import { SwitchingAdapter } from "./switching-adapter";

export const SWITCHED_EVENT = "projections.switched";

export interface ReadModelOptions<D extends ReadDoc> {
  projection: Projection<D>;
  /** What clients may see of a document; the guard fields (_pos, _idx) are never in it. */
  fields: string[];
  /** Fields clients may sort lists by (prefix "-" for descending). */
  sortable: string[];
  pageSize?: number;
  maxPageSize?: number;
}

export interface ReadModelMethods {
  /** Waits (bounded) until this read model reflects log position `pos`. */
  waitForPosition(pos: number | undefined): Promise<void>;
  /** Whether this read model has applied its log up to `pos`, waiting at most `timeoutMs` for it. */
  caughtUpTo(pos: number, timeoutMs: number): Promise<boolean>;
  /** The document as clients see it, once the read model has caught up with `pos`. */
  readAfterWrite(ctx: AppContext, id: string, pos: number | undefined): Promise<unknown>;
  /** A page of documents matching a query the service built (never one a client sent). */
  queryList(
    ctx: AppContext,
    params: { query: Record<string, unknown>; page: number; pageSize: number; sort?: string; fields?: string[] },
  ): Promise<unknown>;
  /** Documents (as clients see them) matching a query the service built. */
  queryFind<T>(ctx: AppContext, query: Record<string, unknown>, limit: number): Promise<T[]>;
  /** The live generation's documents, whole (for the service's own lookups). */
  liveDocs<T extends ReadDoc>(): DocCollection<T>;
}

interface DbInternals {
  sanitizeParams(ctx: AppContext, params: Record<string, unknown>): Record<string, unknown>;
  _list(ctx: AppContext, params: Record<string, unknown>): Promise<unknown>;
  _get(ctx: AppContext, params: Record<string, unknown>): Promise<unknown>;
  _find(ctx: AppContext, params: Record<string, unknown>): Promise<unknown[]>;
  _count(ctx: AppContext, params: Record<string, unknown>): Promise<number>;
}

const READ_YOUR_WRITES_MS = 3000;

/** moleculer-db's internal methods, which its typings do not declare on the service. */
function db(service: unknown): DbInternals {
  return service as DbInternals;
}

/**
 * moleculer-db's own list/get parameters. Moleculer deep-merges our action definitions with
 * moleculer-db's, so these names would come back as accepted parameters (a raw `query` from a
 * client, `$where` included): they are refused by name instead.
 */
/**
 * moleculer-db without its own `list` and `get`: ours replace them, and a mixin's params are
 * merged into ours field by field (its `id: [string, number, array]` became a rule with keys
 * "0", "1", "2" beside ours), so what is validated and documented would not be what is written here.
 */
const DB_SERVICE: Partial<ServiceSchema> = (() => {
  const { list: _list, get: _get, ...actions } = (DbService as unknown as { actions: Record<string, unknown> }).actions;
  return { ...(DbService as unknown as Partial<ServiceSchema>), actions } as Partial<ServiceSchema>;
})();

const NOT_FROM_CLIENTS = Object.fromEntries(
  ["query", "search", "iSearch", "searchFields", "populate", "fields", "excludeFields", "mapping", "limit", "offset"].map(
    (name) => [
      name,
      {
        type: "forbidden",
        messages: { forbidden: `'${name}' is not a parameter of this API (use select, sort, page, pageSize)` },
      },
    ],
  ),
);

/** `?select=name,venue` picks what a reply carries, among the fields clients may see. */
export function selectParam(allowed: string[]) {
  const name = allowed.map(escapeRegExp).join("|");
  return {
    type: "string",
    optional: true,
    pattern: `^(${name})(,(${name}))*$`,
    messages: { stringPattern: `'select' must be a comma-separated list of: ${allowed.join(", ")}` },
  };
}

/**
 * "My orders", "my tickets"...: the caller's own documents (by their `userId`), a page at a
 * time in the order of `sort`.
 */
export function ownDocsAction(sort: string) {
  return {
    auth: "user" as const,
    params: { ...pagingParams(), $$strict: "remove" },
    handler(this: Service & ReadModelMethods, ctx: AppContext<{ page?: number; pageSize?: number }>) {
      return this.queryList(ctx as AppContext, {
        query: { userId: ctx.meta.user!.sub },
        page: ctx.params.page ?? 1,
        pageSize: ctx.params.pageSize ?? 20,
        sort,
      });
    },
  };
}

function sortValues(fields: string[]): string[] {
  return fields.flatMap((f) => [f, `-${f}`]);
}
const REFRESH_MS = 5000;

/**
 * The query side of a service: runs the projection (leased, so one replica applies it) and
 * exposes moleculer-db's list / find / count / get over its live collection. No write action
 * exists: the only writer is the projection.
 */
export function ReadModel<D extends ReadDoc>(rt: Runtime, options: ReadModelOptions<D>): Partial<ServiceSchema> {
  const { projection } = options;
  let host: ProjectionHost | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;

  // `adapter` is moleculer-db's own schema property.
  const schema: Partial<ServiceSchema> & { adapter: SwitchingAdapter } = {
    mixins: [DB_SERVICE],
    adapter: new SwitchingAdapter(),
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
      // moleculer-db's own versions take a raw `query` object; from a client that would be an
      // open door ($where on MongoDB). Clients get paging and whitelisted sorting only.
      list: {
        params: {
          ...NOT_FROM_CLIENTS,
          select: selectParam(options.fields),
          ...pagingParams(options.maxPageSize),
          sort: { type: "enum", values: sortValues(options.sortable), optional: true },
          $$strict: "remove",
        },
        handler(this: Service, ctx: AppContext<{ page?: number; pageSize?: number; sort?: string; select?: string }>) {
          const params = {
            page: ctx.params.page ?? 1,
            pageSize: ctx.params.pageSize ?? options.pageSize ?? 20,
            sort: ctx.params.sort,
            fields: ctx.params.select?.split(","),
          };
          return db(this)._list(ctx, db(this).sanitizeParams(ctx, params));
        },
      },
      get: {
        errors: { NOT_FOUND: 404 },
        params: {
          ...NOT_FROM_CLIENTS,
          id: { type: "string", min: 1, max: 200 },
          select: selectParam(options.fields),
          $$strict: "remove",
        },
        async handler(this: Service, ctx: AppContext<{ id: string; select?: string }>) {
          try {
            return await db(this)._get(ctx, { id: ctx.params.id, fields: ctx.params.select?.split(",") });
          } catch (err) {
            // moleculer-db's EntityNotFoundError has no `type`: clients match on NOT_FOUND like every other 404.
            if ((err as Error).name === "EntityNotFoundError") throw notFound(this.name.replace(/s$/, ""), ctx.params.id);
            throw err;
          }
        },
      },
      find: { visibility: "public" },
      count: { visibility: "public" },
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
      async caughtUpTo(pos: number, timeoutMs: number): Promise<boolean> {
        if (pos === 0) return true;
        return host ? host.waitFor(pos, timeoutMs) : false;
      },
      async readAfterWrite(this: DbInternals & ReadModelMethods, ctx: AppContext, id: string, pos: number | undefined) {
        await this.waitForPosition(pos);
        return this._get(ctx, { id });
      },
      queryList(this: DbInternals, ctx: AppContext, params: Record<string, unknown>) {
        return this._list(ctx, this.sanitizeParams(ctx, params));
      },
      queryFind(this: DbInternals, ctx: AppContext, query: Record<string, unknown>, limit: number) {
        return this._find(ctx, { query, limit });
      },
      liveDocs() {
        if (!host) throw new Error(`read model ${projection.name} is not started`);
        return rt.store.collection(host.collection);
      },
    },
    async started(this: Service) {
      const broker = this.broker;
      // The schema's adapter was deep-cloned by Moleculer: this one is ours.
      const adapter = (this as Service & { adapter: SwitchingAdapter }).adapter;
      adapter.attach(rt);
      host = new ProjectionHost({
        store: rt.store,
        projection: projection as unknown as Projection,
        owner: rt.instanceId,
        logger: this.logger,
        tuning: rt.config.runners,
        onSwitch: async (collection) => {
          await adapter.use(collection);
          await broker.broadcast(SWITCHED_EVENT, { projection: projection.name });
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

/**
 * Runs a command and answers with the resource as clients will read it: the usual reply of
 * a create or update endpoint.
 */
export async function executeAndRead<C, E extends NewEvent, S>(
  svc: EventSourcedMethods & ReadModelMethods,
  ctx: AppContext,
  write: { decider: Decider<C, E, S>; stream: string; command: C; name: string; id: string },
): Promise<unknown> {
  const result = await svc.execute(ctx, write.decider, write.stream, write.command, write.name);
  return svc.readAfterWrite(ctx, write.id, result.commit?.pos);
}
