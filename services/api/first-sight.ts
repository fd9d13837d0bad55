import { Errors, type Context } from "moleculer";
import type { Logger } from "../../lib/app/runtime";
import { isPerson, type Principal } from "../../lib/auth/principal";

/** Subjects remembered per process; past it the oldest are forgotten (and merely asked about again). */
const REMEMBERED = 10_000;
const CALL = { timeout: 3000, retries: 0 };

/**
 * Gives every person a profile on their first authenticated call: the gateway asks the users
 * service once per subject and process (`users.ensure` changes nothing for a known user). A
 * failure does not fail the request: the subject is asked about again on its next call.
 */
export class FirstSight {
  private readonly seen = new Map<string, Promise<void>>();

  constructor(private readonly logger: Logger) {}

  ensure(ctx: Context, user: Principal): Promise<void> {
    if (!isPerson(user)) return Promise.resolve();
    const known = this.seen.get(user.sub);
    if (known) {
      // Recently used subjects stay: the Map's order is the eviction order.
      this.seen.delete(user.sub);
      this.seen.set(user.sub, known);
      return known;
    }
    const asked = this.ask(ctx, user);
    this.seen.set(user.sub, asked);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    return asked;
  }

  private async ask(ctx: Context, user: Principal): Promise<void> {
    try {
      await ctx.call("users.ensure", { id: user.sub, name: user.name, email: user.email }, { ...CALL, meta: { user } });
    } catch (err) {
      this.seen.delete(user.sub);
      // A cluster without the users service (SERVICES leaves it out) has no profiles: nothing to say.
      if (err instanceof Errors.MoleculerError && err.type === "SERVICE_NOT_FOUND") return;
      this.logger.warn(`profile of ${user.sub} not ensured: ${(err as Error).message}`);
    }
  }
}
