/** The phrases of each locale a message can be written in. */
import type { Locale } from "../../../lib/domain/notifications";
import { en } from "./en";
import type { Phrases } from "./message";
import { ru } from "./ru";

export const PHRASES: Record<Locale, Phrases> = { ru, en };

/** A locale the data should never carry (an old record, a typo) still gets a readable message. */
export function phrasesFor(locale: string): Phrases {
  return PHRASES[locale as Locale] ?? PHRASES.en;
}
