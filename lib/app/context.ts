import type { Context } from "moleculer";
import type { Principal } from "../auth/principal";

/** What the gateway puts in every call's meta; propagated to nested calls by Moleculer. */
export interface RequestMeta {
  user?: Principal | null;
  /** Per-request id (or the client's Idempotency-Key, scoped to the caller): commands derive theirs from it. */
  commandId?: string;
  /** Set by the gateway on replies that create something. */
  $statusCode?: number;
  $responseHeaders?: Record<string, string>;
  /** moleculer-web's Location header for 201 replies. */
  $location?: string;
}

export type AppContext<P = Record<string, unknown>> = Context<P, RequestMeta>;

/** The principal internal jobs act as (geocoding results, discography syncs...). */
export const SYSTEM: Principal = { sub: "system", roles: ["admin"] };
