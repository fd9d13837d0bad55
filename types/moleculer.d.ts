import type { Role } from "../lib/auth/principal";

declare module "moleculer" {
  interface ActionSchema {
    /**
     * Who may call the action: a list of roles (any of them), or "user" for any signed-in
     * caller. Absent = public. Checked by the auth middleware before the handler runs.
     */
    auth?: readonly Role[] | "user";
  }
}
