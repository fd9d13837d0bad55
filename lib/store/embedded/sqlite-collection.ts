import {
  DuplicateKeyError,
  type Doc,
  type DocCollection,
  type DocWrite,
  type Filter,
  type FindOptions,
  type IndexSpec,
} from "../types";
import { fieldExpr, orderBy, whereClause, type FieldIndexes, type SqlFragment } from "./sql-filter";
import { identifier, isUniqueViolation, type SqliteDatabase } from "./sqlite-database";

const INDEX_MARK = "#";

/**
 * A document collection as a table: the id, and the document as JSONB (queried with
 * json_extract, indexed on the fields the queries use). Every method runs synchronously
 * underneath, so a compare-and-set is atomic without a transaction of its own.
 */
export class SqliteCollection<T extends Doc> implements DocCollection<T>, FieldIndexes {
  private readonly table: string;
  /** Fields with a plain index, compared through its expression so SQLite uses it. */
  private readonly indexed = new Set<string>();

  constructor(
    readonly name: string,
    private readonly db: SqliteDatabase,
    private readonly onDrop: () => void = () => undefined,
  ) {
    this.table = identifier(tableOf(name));
    this.create();
  }

  isScalarIndexed(path: string): boolean {
    return this.indexed.has(path);
  }

  async get(id: string): Promise<T | null> {
    return this.getNow(id);
  }

  getNow(id: string): T | null {
    const row = this.db.get<{ body: string }>(`SELECT json(body) AS body FROM ${this.table} WHERE id = ?`, [id]);
    return row ? (JSON.parse(row.body) as T) : null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return this.findNow(filter, options);
  }

  findNow(filter: Filter, options: FindOptions = {}): T[] {
    const where = this.where(filter);
    const page = options.limit ? `LIMIT ${Math.trunc(options.limit)} OFFSET ${Math.trunc(options.skip ?? 0)}` : "";
    const offset = !options.limit && options.skip ? `LIMIT -1 OFFSET ${Math.trunc(options.skip)}` : "";
    const sql = `SELECT json(body) AS body FROM ${this.table} WHERE ${where.sql} ${orderBy(options.sort)} ${page}${offset}`;
    return this.db.all<{ body: string }>(sql, where.params).map((row) => JSON.parse(row.body) as T);
  }

  async count(filter: Filter): Promise<number> {
    return this.countNow(filter);
  }

  countNow(filter: Filter): number {
    const where = this.where(filter);
    return this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${this.table} WHERE ${where.sql}`, where.params)!.n;
  }

  async insert(doc: T): Promise<void> {
    this.write(() => this.db.run(`INSERT INTO ${this.table} (id, body) VALUES (?, jsonb(?))`, [doc._id, JSON.stringify(doc)]));
  }

  async upsert(doc: T): Promise<void> {
    this.write(() =>
      this.db.run(
        `INSERT INTO ${this.table} (id, body) VALUES (?, jsonb(?)) ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
        [doc._id, JSON.stringify(doc)],
      ),
    );
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    return this.replaceNow(filter, doc);
  }

  private replaceNow(filter: Filter, doc: Doc): boolean {
    const id = this.firstId(filter);
    if (id === null) return false;
    return (
      this.write(() =>
        this.db.run(`UPDATE ${this.table} SET id = ?, body = jsonb(?) WHERE id = ?`, [doc._id, JSON.stringify(doc), id]),
      ) > 0
    );
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    return this.updateNow(filter, set);
  }

  private updateNow(filter: Filter, set: Record<string, unknown>): boolean {
    const where = this.where(filter);
    const row = this.db.get<{ body: string }>(
      `SELECT json(body) AS body FROM ${this.table} WHERE ${where.sql} LIMIT 1`,
      where.params,
    );
    if (!row) return false;
    const doc = JSON.parse(row.body) as Record<string, unknown>;
    for (const [key, value] of Object.entries(set)) {
      if (value === undefined) delete doc[key];
      else doc[key] = value;
    }
    return this.replaceNow({ _id: doc._id }, doc as unknown as Doc);
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return this.deleteNow(filter);
  }

  private deleteNow(filter: Filter): boolean {
    const id = this.firstId(filter);
    return id !== null && this.db.run(`DELETE FROM ${this.table} WHERE id = ?`, [id]) > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const where = this.where(filter);
    return this.db.run(`DELETE FROM ${this.table} WHERE ${where.sql}`, where.params);
  }

  async ensureIndex(spec: IndexSpec): Promise<void> {
    this.ensureIndexNow(spec);
  }

  ensureIndexNow(spec: IndexSpec): void {
    // SQLite cannot index the elements of an array: such a field is matched MongoDB's way, unindexed.
    if (spec.field === "_id" || spec.multi) return;
    const expr = fieldExpr(spec.field);
    const name = identifier(`${tableOf(this.name)}${INDEX_MARK}${spec.field}`);
    const partial = spec.sparse ? ` WHERE ${expr} IS NOT NULL` : "";
    this.write(() =>
      this.db.exec(`CREATE ${spec.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${name} ON ${this.table} (${expr})${partial}`),
    );
    this.indexed.add(spec.field);
  }

  async drop(): Promise<void> {
    this.db.exec(`DROP TABLE IF EXISTS ${this.table}`);
    this.db.forget(this.table);
    this.indexed.clear();
    this.onDrop();
  }

  /** One write of a unit (EmbeddedStore.commit): false when its compare-and-set matched nothing. */
  apply(write: DocWrite): boolean {
    switch (write.op) {
      case "insert":
        this.write(() =>
          this.db.run(`INSERT INTO ${this.table} (id, body) VALUES (?, jsonb(?))`, [write.doc._id, JSON.stringify(write.doc)]),
        );
        return true;
      case "replace":
        return this.replaceNow(write.filter, write.doc);
      case "update":
        return this.updateNow(write.filter, write.set);
      case "delete":
        return this.deleteNow(write.filter);
    }
  }

  /** Copies documents in as they are (a migration), replacing any with the same id. */
  importDocs(docs: readonly Doc[]): void {
    const sql = `INSERT OR REPLACE INTO ${this.table} (id, body) VALUES (?, jsonb(?))`;
    this.db.transaction(() => {
      for (const doc of docs) this.db.run(sql, [doc._id, JSON.stringify(doc)]);
    });
  }

  private create(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID`);
    // Indexes made by an earlier run are known by name: `<table>#<field>`.
    const prefix = `${tableOf(this.name)}${INDEX_MARK}`;
    const rows = this.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [
      tableOf(this.name),
    ]);
    for (const row of rows) if (row.name.startsWith(prefix)) this.indexed.add(row.name.slice(prefix.length));
  }

  private where(filter: Filter): SqlFragment {
    return whereClause(filter, this);
  }

  private firstId(filter: Filter): string | null {
    if (Object.keys(filter).length === 1 && typeof filter._id === "string") {
      return this.db.get<{ id: string }>(`SELECT id FROM ${this.table} WHERE id = ?`, [filter._id])?.id ?? null;
    }
    const where = this.where(filter);
    return this.db.get<{ id: string }>(`SELECT id FROM ${this.table} WHERE ${where.sql} LIMIT 1`, where.params)?.id ?? null;
  }

  private write<R>(run: () => R): R {
    try {
      return run();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError(this.name, (err as Error).message);
      throw err;
    }
  }
}

export function tableOf(collection: string): string {
  return `doc:${collection}`;
}
