import { createHash, randomUUID } from "node:crypto";
import { Errors } from "moleculer";
import { serviceUnavailable } from "../../lib/app/errors";
import { DuplicateKeyError, type Doc, type DocCollection } from "../../lib/store/types";

/**
 * Idempotency-Key records: which request a key was first used for, and the command id every
 * repeat of that request gets. A key belongs to one caller, one route (method and pattern)
 * and one resource (path parameters): the same key on two of an organizer's orders is two
 * commands, not one. Reused with another body or query it is refused (422
 * IDEMPOTENCY_KEY_REUSED) instead of silently answering what the first request did.
 */
export const IDEMPOTENCY_COLLECTION = "idempotency_keys";

/** How long a key is remembered (YooKassa keeps theirs 24 h too); later, the same key is a new command. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export interface IdempotencyRecord extends Doc {
  /** Hash of the canonical body and query of the first request. */
  fingerprint: string;
  /** The command id every repeat of that request carries (so it names the same resources). */
  commandId: string;
  at: number;
}

export interface KeyedRequest {
  key: string;
  caller: string;
  method: string;
  /** The route's pattern, e.g. /api/orders/:id/refunds. */
  route: string;
  pathParams: Record<string, unknown>;
  body: unknown;
  query: unknown;
}

export interface KeyClaim {
  commandId: string;
  /**
   * Forgets the key if this request recorded it: for a request refused before its action ran
   * (no token, wrong role, invalid parameters), so the corrected request can use the same key.
   */
  release(): Promise<void>;
}

export class IdempotencyKeys {
  constructor(
    private readonly docs: DocCollection<IdempotencyRecord>,
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
  ) {}

  async init(): Promise<void> {
    await this.docs.ensureIndex({ field: "at" });
  }

  /** The command id for a keyed request (see claim). */
  async commandIdOf(request: KeyedRequest, now = Date.now()): Promise<string> {
    return (await this.claim(request, now)).commandId;
  }

  /**
   * Records the key for this request, or finds the request it was recorded for. The unique
   * insert decides between two racing requests with one key: the loser reads the winner's
   * record, so they cannot both pass with different bodies.
   */
  async claim(request: KeyedRequest, now = Date.now()): Promise<KeyClaim> {
    const id = scopedKey(request);
    const fingerprint = digest(canonicalJson({ body: request.body ?? {}, query: request.query ?? {} }));
    const fresh: IdempotencyRecord = { _id: id, fingerprint, commandId: `idem-${randomUUID()}`, at: now };
    try {
      // A few attempts: the record found may be swept or replaced between our reads.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await this.docs.insert(fresh);
          return this.recorded(fresh);
        } catch (err) {
          if (!(err instanceof DuplicateKeyError)) throw err;
        }
        const existing = await this.docs.get(id);
        if (!existing) continue;
        if (existing.at <= now - this.ttlMs) {
          if (await this.docs.replaceOne({ _id: id, at: existing.at }, fresh)) return this.recorded(fresh);
          continue;
        }
        if (existing.fingerprint !== fingerprint) throw keyReused();
        return { commandId: existing.commandId, release: async () => undefined };
      }
    } catch (err) {
      if (err instanceof Errors.MoleculerError) throw err;
      throw serviceUnavailable();
    }
    throw serviceUnavailable();
  }

  private recorded(record: IdempotencyRecord): KeyClaim {
    return {
      commandId: record.commandId,
      release: async () => void (await this.docs.deleteOne({ _id: record._id, commandId: record.commandId })),
    };
  }

  /** Forgets keys older than the TTL; returns how many. */
  sweep(now = Date.now()): Promise<number> {
    return this.docs.deleteMany({ at: { $lte: now - this.ttlMs } });
  }
}

function scopedKey(r: KeyedRequest): string {
  return digest(canonicalJson([r.caller, r.method, r.route, r.pathParams, r.key]));
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted, so the same request always hashes the same. Bodies are depth-bounded by the parser. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function keyReused(): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(
    "this Idempotency-Key was used for a different request: use a new key for a new request",
    422,
    "IDEMPOTENCY_KEY_REUSED",
  );
}
