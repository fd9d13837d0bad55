/**
 * Russian registration numbers end with check digits; checking them catches the typos that
 * would otherwise surface only when a fiscal receipt or a payout is rejected.
 */

const INN10_WEIGHTS = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

function digits(value: string, length: number): number[] | null {
  return value.length === length && /^\d+$/.test(value) ? [...value].map(Number) : null;
}

function innCheckDigit(d: number[], weights: number[]): number {
  return (weights.reduce((sum, w, i) => sum + w * d[i], 0) % 11) % 10;
}

/** INN of a legal entity: 10 digits, the last one a check digit. */
export function isValidLegalEntityInn(value: string): boolean {
  const d = digits(value, 10);
  return !!d && innCheckDigit(d, INN10_WEIGHTS) === d[9];
}

/** INN of an individual (sole entrepreneur): 12 digits, the last two check digits. */
export function isValidPersonalInn(value: string): boolean {
  const d = digits(value, 12);
  return !!d && innCheckDigit(d, INN12_WEIGHTS_11) === d[10] && innCheckDigit(d, INN12_WEIGHTS_12) === d[11];
}

/** The first digits taken as a number modulo `divisor`; BigInt because 14 digits pass 2^53 once multiplied. */
function checkDigit(value: string, divisor: bigint): number {
  return Number((BigInt(value.slice(0, -1)) % divisor) % 10n);
}

/** OGRN of a legal entity: 13 digits; the first 12 modulo 11 (then 10) give the last. */
export function isValidOgrn(value: string): boolean {
  const d = digits(value, 13);
  return !!d && checkDigit(value, 11n) === d[12];
}

/** OGRNIP of a sole entrepreneur: 15 digits; the first 14 modulo 13 (then 10) give the last. */
export function isValidOgrnip(value: string): boolean {
  const d = digits(value, 15);
  return !!d && checkDigit(value, 13n) === d[14];
}
