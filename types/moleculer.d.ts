import type { Role } from "../lib/auth/principal";

declare module "moleculer" {
  interface ActionSchema {
    /**
     * Who may call the action: a list of roles (any of them), or "user" for any signed-in
     * caller. Absent = public. Checked by the auth middleware before the handler runs.
     */
    auth?: readonly Role[] | "user";
    /**
     * The domain refusals the action may answer with: stable `type` → HTTP status. The API
     * document (lib/http/openapi.ts) lists them; the gateway's own refusals (validation, tokens,
     * roles, bodies) are added there and need not be repeated.
     */
    errors?: Readonly<Record<string, number>>;
    /** The HTTP status of a success when it is not 200 (201 created, 202 accepted). */
    successStatus?: 201 | 202;
  }
}
