import type { ActionHandler, ActionSchema, Middleware, Service } from "moleculer";
import { hasRole, withheldReason } from "../auth/principal";
import type { AppContext } from "./context";
import { forbidden, unauthorized } from "./errors";

/** Enforces an action's `auth` declaration (see types/moleculer.d.ts) on every node. */
export const AuthMiddleware: Middleware = {
  name: "Auth",
  localAction(next: ActionHandler, action: ActionSchema): ActionHandler {
    const rule = action.auth;
    if (!rule) return next;
    return function (this: Service, ctx: AppContext) {
      const user = ctx.meta.user;
      if (!user) throw unauthorized();
      if (rule !== "user" && !hasRole(user, ...rule)) {
        throw forbidden(withheldReason(user, rule) ?? `${action.name} needs one of the roles ${rule.join(", ")}`);
      }
      return next.call(this, ctx);
    } as ActionHandler;
  },
};
