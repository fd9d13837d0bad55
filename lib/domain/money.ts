import { invalid, oneOf } from "./validation";

/** Currencies our partners' contract knows; amounts are integers in minor units (kopecks, cents). */
export const CURRENCIES = ["RUB", "USD", "EUR", "GBP", "CNY"] as const;
export type Currency = (typeof CURRENCIES)[number];

export function currency(value: unknown, field: string): Currency {
  return oneOf(value, field, CURRENCIES);
}

/** Floats would round kopecks away, so a price is a safe non-negative integer of minor units. */
export function minorUnits(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalid(field, "must be a non-negative integer amount in minor units (kopecks, cents)");
  }
  return value as number;
}
