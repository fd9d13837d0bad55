import type { PaymentGateway } from "../ports/yookassa/yookassa.port";
import type { AppMetrics } from "./app-metrics";

/** The gateway's operations, each counted by outcome (ok, or the provider error's stable code). */
const OPERATIONS = [
  "createPayment",
  "getPayment",
  "capturePayment",
  "cancelPayment",
  "createRefund",
  "getRefund",
] as const satisfies ReadonlyArray<keyof PaymentGateway>;

export function meteredPayments(gateway: PaymentGateway, provider: string, metrics: AppMetrics): PaymentGateway {
  const metered = {} as Record<(typeof OPERATIONS)[number], (...args: never[]) => Promise<unknown>>;
  for (const operation of OPERATIONS) {
    const call = gateway[operation].bind(gateway) as (...args: never[]) => Promise<unknown>;
    metered[operation] = async (...args) => {
      try {
        const result = await call(...args);
        metrics.providerCall(provider, operation, undefined);
        return result;
      } catch (err) {
        metrics.providerCall(provider, operation, err);
        throw err;
      }
    };
  }
  return metered as unknown as PaymentGateway;
}
