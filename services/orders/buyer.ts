import { Errors } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import type { UserProfile } from "../../lib/domain/notifications";
import type { Customer } from "./orders.types";

/**
 * Who is buying, as the users service knows them (on any node: it is asked over the broker).
 * A blocked user is refused before anything is held; the contact data is the body's when it
 * has some, else the profile's. The order keeps what it was placed with: a later change of the
 * profile does not reach it.
 */
export async function buyerContact(ctx: AppContext, given: Customer | undefined): Promise<Customer> {
  const user = ctx.meta.user!;
  const profile = await ctx.call<UserProfile | null, { id: string }>("users.profile", { id: user.sub });
  if (profile?.blocked)
    throw new Errors.MoleculerClientError(
      "your account is blocked: you can read your orders and tickets but not buy",
      403,
      "USER_BLOCKED",
    );
  if (given) return given;
  const email = profile?.email ?? undefined;
  const phone = profile?.phone ?? undefined;
  const missing = [email === undefined && "customer.email", phone === undefined && "customer.phone"].filter(
    (field): field is string => typeof field === "string",
  );
  if (missing.length > 0)
    throw new Errors.MoleculerClientError(
      missing.map((field) => `${field}: not in the request nor in your profile`).join("; "),
      422,
      "CONTACT_MISSING",
      { fields: missing },
    );
  const [firstName, ...rest] = (profile?.name ?? "").split(/\s+/).filter(Boolean);
  const lastName = rest.join(" ");
  return { email: email!, phone: phone!, ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) };
}
