import { Errors } from "moleculer";
import type { AdmissionTokens } from "../../lib/auth/admission-token";
import type { CatalogueEvent } from "../events/events.types";

/**
 * An order for an event with a waiting room needs the buyer's admission token (GET
 * /api/events/:id/queue gives it once the buyer is admitted); events without one are unaffected.
 */
export function requireAdmission(
  admissions: AdmissionTokens,
  event: Pick<CatalogueEvent, "id" | "waitingRoom">,
  sub: string,
  token: string | undefined,
  now: number,
): void {
  if (!event.waitingRoom) return;
  if (token === undefined)
    throw new Errors.MoleculerClientError(
      `event ${event.id} sells through its waiting room: join it (POST /api/events/${event.id}/queue) and send the admissionToken it gives`,
      403,
      "ADMISSION_REQUIRED",
    );
  const check = admissions.verify(token, event.id, sub, now);
  if (check !== "ok")
    throw new Errors.MoleculerClientError(
      check === "expired"
        ? "your admission has expired: it is not renewed"
        : `the admissionToken is not an admission of your account to event ${event.id}`,
      403,
      "ADMISSION_INVALID",
      { reason: check },
    );
}
