import {
  DuplicateKeyError,
  type Doc,
  type DocCollection,
  type DocWrite,
  type Filter,
  type FindOptions,
  type IndexSpec,
} from "../types";
import { fieldExpr, jsonPath, orderBy, whereClause, type FieldIndexes, type SqlFragment } from "./sql-filter";
import { identifier, isUniqueViolation, type SqliteDatabase } from "./sqlite-database";

const INDEX_MARK = "#";
const DROP_CHUNK_ROWS = 2000;
const ARRAY_FIELDS = identifier("meta:array_fields");
/** Databases whose array-fields table is made: once per connection, not once per collection. */
const withArrayFields = new WeakSet<SqliteDatabase>();

/**
 * A document collection as a table: the id, and the document as JSONB (queried with
 * json_extract, indexed on the fields the queries use). Every method runs synchronously
 * underneath, so a compare-and-set is atomic without a transaction of its own.
 */
export class SqliteCollection<T extends Doc> implements DocCollection<T>, FieldIndexes {
  private readonly tableName: string;
  /** False once dropped: the next use makes the table again, empty (as MongoDB does). */
  private exists = false;
  /** Fields with a plain index, compared through its expression so SQLite uses it. */
  private readonly indexed = new Set<string>();
  /**
   * Indexed fields found holding an array (MongoDB indexes those too, as multikey): from then
   * on they are matched MongoDB's way, not through the index, and remembered across restarts.
   */
  private readonly arrays = new Set<string>();

  constructor(
    readonly name: string,
    private readonly db: SqliteDatabase,
    private readonly onDrop: () => void = () => undefined,
  ) {
    this.tableName = identifier(tableOf(name));
    this.create();
  }

  private get table(): string {
    if (!this.exists) this.create();
    return this.tableName;
  }

  isScalarIndexed(path: string): boolean {
    return this.indexed.has(path) && !this.arrays.has(path);
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
    const page = options.limit || options.skip ? "LIMIT ? OFFSET ?" : "";
    const params = page ? [...where.params, Math.trunc(options.limit || -1), Math.trunc(options.skip ?? 0)] : where.params;
    const sql = `SELECT json(body) AS body FROM ${this.table} WHERE ${where.sql} ${orderBy(options.sort)} ${page}`;
    return this.db.all<{ body: string }>(sql, params).map((row) => JSON.parse(row.body) as T);
  }

  async count(filter: Filter): Promise<number> {
    return this.countNow(filter);
  }

  countNow(filter: Filter): number {
    const where = this.where(filter);
    return this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${this.table} WHERE ${where.sql}`, where.params)!.n;
  }

  async insert(doc: T): Promise<void> {
    this.insertNow(doc);
  }

  private insertNow(doc: Doc): void {
    this.write(() => this.db.run(`INSERT INTO ${this.table} (id, body) VALUES (?, jsonb(?))`, [doc._id, this.serialize(doc)]));
  }

  async upsert(doc: T): Promise<void> {
    this.write(() =>
      this.db.run(
        `INSERT INTO ${this.table} (id, body) VALUES (?, jsonb(?)) ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
        [doc._id, this.serialize(doc)],
      ),
    );
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    return this.replaceNow(filter, doc);
  }

  private replaceNow(filter: Filter, doc: Doc): boolean {
    const id = this.firstId(filter);
    return id !== null && this.replaceById(id, doc);
  }

  private replaceById(id: string, doc: Doc): boolean {
    return (
      this.write(() =>
        this.db.run(`UPDATE ${this.table} SET id = ?, body = jsonb(?) WHERE id = ?`, [doc._id, this.serialize(doc), id]),
      ) > 0
    );
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    return this.updateNow(filter, set);
  }

  private updateNow(filter: Filter, set: Record<string, unknown>): boolean {
    const where = this.where(filter);
    const row = this.db.get<{ id: string; body: string }>(
      `SELECT id, json(body) AS body FROM ${this.table} WHERE ${where.sql} LIMIT 1`,
      where.params,
    );
    if (!row) return false;
    const doc = JSON.parse(row.body) as Record<string, unknown>;
    for (const [key, value] of Object.entries(set)) {
      if (value === undefined) delete doc[key];
      else doc[key] = value;
    }
    return this.replaceById(row.id, doc as unknown as Doc);
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
    if (spec.field === "_id") return;
    const expr = fieldExpr(spec.field);
    const name = identifier(`${tableOf(this.name)}${INDEX_MARK}${spec.field}`);
    const partial = spec.sparse ? ` WHERE ${expr} IS NOT NULL` : "";
    this.write(() =>
      this.db.exec(`CREATE ${spec.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${name} ON ${this.table} (${expr})${partial}`),
    );
    if (!this.indexed.has(spec.field)) {
      // Documents written before the index may hold arrays there already.
      const segments = spec.field.split(".");
      const prefixes = segments.map((_, i) => `json_type(body, '${jsonPath(segments.slice(0, i + 1).join("."))}') = 'array'`);
      if (this.db.get(`SELECT 1 FROM ${this.table} WHERE ${prefixes.join(" OR ")} LIMIT 1`)) this.markArray(spec.field);
    }
    this.indexed.add(spec.field);
  }

  /**
   * Emptied a few thousand rows at a time, with a turn of the event loop between: dropping a
   * retired generation of a million orders at once frees every page in one statement and held
   * the process for a second.
   */
  async drop(): Promise<void> {
    if (this.exists) {
      const chunk = `DELETE FROM ${this.tableName} WHERE rowid IN (SELECT rowid FROM ${this.tableName} LIMIT ${DROP_CHUNK_ROWS})`;
      while (this.exists && this.db.run(chunk) === DROP_CHUNK_ROWS) await new Promise((resolve) => setImmediate(resolve));
    }
    this.db.exec(`DROP TABLE IF EXISTS ${this.tableName}`);
    this.db.run(`DELETE FROM ${ARRAY_FIELDS} WHERE collection = ?`, [this.name]);
    this.arrays.clear();
    this.db.forget(this.tableName);
    this.indexed.clear();
    this.exists = false;
    this.onDrop();
  }

  /** One write of a unit (EmbeddedStore.write): false when its compare-and-set matched nothing. */
  apply(write: DocWrite): boolean {
    switch (write.op) {
      case "insert":
        this.insertNow(write.doc);
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
      for (const doc of docs) this.db.run(sql, [doc._id, this.serialize(doc)]);
    });
  }

  private create(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${this.tableName} (id TEXT PRIMARY KEY, body BLOB NOT NULL)`);
    this.exists = true;
    // Indexes made by an earlier run are known by name: `<table>#<field>`.
    const prefix = `${tableOf(this.name)}${INDEX_MARK}`;
    const rows = this.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [
      tableOf(this.name),
    ]);
    for (const row of rows) if (row.name.startsWith(prefix)) this.indexed.add(row.name.slice(prefix.length));
    if (!withArrayFields.has(this.db)) {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${ARRAY_FIELDS} (collection TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (collection, path))`,
      );
      withArrayFields.add(this.db);
    }
    const arrays = this.db.all<{ path: string }>(`SELECT path FROM ${ARRAY_FIELDS} WHERE collection = ?`, [this.name]);
    for (const row of arrays) this.arrays.add(row.path);
  }

  /** The document as JSON, noting an indexed field that turns out to hold an array. */
  private serialize(doc: Doc): string {
    for (const path of this.indexed) {
      if (!this.arrays.has(path) && throughArray(doc, path)) this.markArray(path);
    }
    return JSON.stringify(doc);
  }

  private markArray(path: string): void {
    this.arrays.add(path);
    this.db.run(`INSERT OR IGNORE INTO ${ARRAY_FIELDS} (collection, path) VALUES (?, ?)`, [this.name, path]);
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

/** Whether the field path meets an array on its way (or ends on one). */
function throughArray(doc: unknown, path: string): boolean {
  let value = doc;
  for (const segment of path.split(".")) {
    if (Array.isArray(value)) return true;
    if (!value || typeof value !== "object") return false;
    value = (value as Record<string, unknown>)[segment];
  }
  return Array.isArray(value);
}
