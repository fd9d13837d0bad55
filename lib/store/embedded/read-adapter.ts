import type { Doc, Filter } from "../types";
import type { SqliteCollection } from "./sqlite-collection";

/** What moleculer-db's query actions pass to an adapter's find and count. */
export interface DbQueryParams {
  query?: Filter;
  sort?: string | string[];
  limit?: number;
  offset?: number;
  search?: string;
}

/**
 * A read-only moleculer-db adapter over an embedded-store collection: list, find, count and
 * get run as SQL, paging and sorting included. Read models have one writer, their projection,
 * so the adapter's write methods are left out (moleculer-db's write actions are disabled).
 */
export class CollectionReadAdapter {
  constructor(private readonly collection: SqliteCollection<Doc>) {}

  init(): void {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async find(params: DbQueryParams = {}): Promise<Doc[]> {
    return this.collection.findNow(this.filter(params), {
      sort: sortOf(params.sort),
      skip: params.offset,
      limit: params.limit,
    });
  }

  async findOne(query: Filter): Promise<Doc | null> {
    return this.collection.findNow(query, { limit: 1 })[0] ?? null;
  }

  async findById(id: string): Promise<Doc | null> {
    return this.collection.getNow(String(id));
  }

  async findByIds(ids: string[]): Promise<Doc[]> {
    return this.collection.findNow({ _id: { $in: ids.map(String) } });
  }

  async count(params: DbQueryParams = {}): Promise<number> {
    return this.collection.countNow(this.filter(params));
  }

  entityToObject(entity: Doc): Doc {
    return entity;
  }

  beforeSaveTransformID(entity: Doc): Doc {
    return entity;
  }

  afterRetrieveTransformID(entity: Doc): Doc {
    return entity;
  }

  private filter(params: DbQueryParams): Filter {
    // Clients never send `search` (the read-model mixin forbids it): services build their queries.
    if (params.search) throw new Error("free-text `search` is not supported by read models; query a search field");
    return params.query ?? {};
  }
}

/** moleculer-db's sort (`["-createdAt", "name"]` or "-createdAt name") as a MongoDB sort. */
export function sortOf(sort: string | string[] | undefined): Record<string, 1 | -1> | undefined {
  const fields = typeof sort === "string" ? sort.split(/[\s,]+/) : sort;
  if (!fields?.length) return undefined;
  const out: Record<string, 1 | -1> = {};
  for (const field of fields.filter(Boolean)) {
    if (field.startsWith("-")) out[field.slice(1)] = -1;
    else out[field] = 1;
  }
  return out;
}
