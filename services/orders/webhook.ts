import { Errors } from "moleculer";
import type { Runtime } from "../../lib/app/runtime";
import { parseNotification } from "../../lib/ports/yookassa/yookassa.parse";
import { YookassaError, type Notification } from "../../lib/ports/yookassa/yookassa.port";
import type { OrdersService } from "./order-commands";
import { paymentNotification } from "./payments";
import { refundNotification } from "./refunds";

/**
 * A webhook body from an allowed source. Only what checks out is recorded (payments.ts and
 * refunds.ts say what that is); anything else is answered 200, so the provider stops
 * repeating it, and dropped with a log line that carries no personal data.
 */
export async function receiveNotification(
  rt: Runtime,
  svc: OrdersService,
  body: Record<string, unknown>,
  requestID: string | null,
): Promise<{ ok: true }> {
  let notification: Notification;
  try {
    notification = parseNotification(body);
  } catch (err) {
    throw new Errors.MoleculerClientError(`not a YooKassa notification: ${(err as Error).message}`, 400, "BAD_NOTIFICATION");
  }
  let dropped: string | null;
  try {
    dropped =
      notification.event === "refund.succeeded"
        ? await refundNotification(rt, svc, notification.object, notification.event, requestID)
        : await paymentNotification(rt, svc, notification.object, notification.event, requestID);
  } catch (err) {
    if (!(err instanceof YookassaError)) throw err;
    // Nothing recorded: a non-2xx answer makes the provider deliver it again later.
    svc.logger.warn(`payment notification ${notification.event} not checked, the provider is not answering: ${err.message}`);
    throw new Errors.MoleculerRetryableError("the payment provider is not answering: send it again", 503, "PAYMENT_UNAVAILABLE");
  }
  if (dropped) svc.logger.warn(`payment notification ${notification.event} dropped: ${dropped}`);
  return { ok: true };
}
