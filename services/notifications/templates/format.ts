/**
 * Formatting shared by every template: money, dates in the event's own zone, plural forms,
 * a ticket's place, and fitting an SMS into one part.
 */
import type { Locale } from "../../../lib/domain/notifications";
import type { EventView, TicketView } from "../notification-data";

const numberFormats = new Map<string, Intl.NumberFormat>();

/** Minor units (kopecks, cents) → "1 500,00 ₽" / "₽1,500.00": the locale's conventions, the currency's sign. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  const key = `${locale}:${currency}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: "narrowSymbol" });
    numberFormats.set(key, format);
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/**
 * An unknown zone (a catalogue typo) must not stop a receipt: the time is then shown in UTC,
 * which stays true because the long form names its offset.
 */
function dateFormat(locale: Locale, timeZone: string, style: "long" | "short"): Intl.DateTimeFormat {
  const key = `${style}:${locale}:${timeZone}`;
  let format = dateFormats.get(key);
  if (!format) {
    const options = style === "long" ? longDate : shortDate(locale);
    try {
      format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" });
    }
    dateFormats.set(key, format);
  }
  return format;
}

/** Building a DateTimeFormat costs about a millisecond: one per style, locale and zone, kept. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A moment as the people at the venue read it: the event's zone, 24-hour clock, and the
 * offset, so a buyer in another zone is not misled ("Mon, June 1, 2026 at 19:00 GMT+3").
 */
export function formatDateTime(at: number, timeZone: string, locale: Locale): string {
  return dateFormat(locale, timeZone, "long").format(at);
}

/** Short form for SMS and push: "01.06, 19:00" / "Jun 1, 19:00", in the event's zone, no offset. */
export function formatShortDateTime(at: number, timeZone: string, locale: Locale): string {
  return dateFormat(locale, timeZone, "short").format(at);
}

const longDate: Intl.DateTimeFormatOptions = {
  weekday: "short",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZoneName: "shortOffset",
};

const shortDate = (locale: Locale): Intl.DateTimeFormatOptions => ({
  day: locale === "ru" ? "2-digit" : "numeric",
  month: locale === "ru" ? "2-digit" : "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** Plural forms per CLDR category; Russian needs one/few/many ("1 билет", "2 билета", "5 билетов"). */
export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

const pluralRules = new Map<Locale, Intl.PluralRules>();

export function plural(count: number, forms: PluralForms, locale: Locale): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return `${count} ${forms[rules.select(count)] ?? forms.other}`;
}

/** What a ticket holder looks for at the door: row and seat, else the sector (standing, GA). */
export function ticketPlace(ticket: TicketView, words: { row: string; seat: string; sector: string; general: string }): string {
  const parts: string[] = [];
  if (ticket.sector) parts.push(`${words.sector} ${ticket.sector}`);
  if (ticket.row) parts.push(`${words.row} ${ticket.row}`);
  if (ticket.seat) parts.push(`${words.seat} ${ticket.seat}`);
  return parts.length > 0 ? parts.join(", ") : words.general;
}

export function venueLine(venue: EventView["venue"]): string {
  return [venue.name, venue.address, venue.city].filter((part) => part.trim() !== "").join(", ");
}

export function venueAddress(venue: EventView["venue"]): string {
  return [venue.address, venue.city].filter((part) => part.trim() !== "").join(", ");
}

/** Characters that fit a 7-bit GSM SMS one to one (the extension table's `{}[]~^|\` cost two). */
const GSM_SIMPLE = /^[A-Za-z0-9 \n\r@£$¥!"#%&'()*+,\-./:;<=>?¡¿ÄÖÑÜ§äöñüàèéùìòÇØøÅåÆæßÉ_]*$/;

/** One SMS part holds 160 GSM-7 characters, or 70 once any other character (Cyrillic, ₽) is in. */
export function smsLimit(text: string): number {
  return GSM_SIMPLE.test(text) ? 160 : 70;
}

/**
 * An SMS billed as one part: the event's name is the only free-length piece, so it is cut
 * (with an ellipsis) until the whole fits; if even the bare message is longer, it is sent as is.
 */
export function fitSms(compose: (name: string) => string, name: string): string {
  let full = compose(name);
  if (full.length <= smsLimit(full)) return full;
  for (let keep = name.length - 1; keep >= 1; keep--) {
    full = compose(`${name.slice(0, keep).trimEnd()}…`);
    if (full.length <= smsLimit(full)) return full;
  }
  return full;
}
