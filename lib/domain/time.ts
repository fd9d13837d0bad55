import { invalid, text } from "./validation";

/**
 * Instants are epoch milliseconds; the wall clock of an event is shown in its own time zone.
 * Input strings must carry an offset: "19:00" without one is ambiguous for a venue in another
 * zone than the organiser's browser.
 */

/** IANA names only: Intl also accepts raw offsets ("+03:00"), which ignore daylight saving. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/** Returns the canonical spelling of an IANA time zone ("europe/moscow" → "Europe/Moscow"). */
export function timeZone(value: unknown, field: string): string {
  const name = text(value, field, { max: 64 });
  if (!IANA_NAME.test(name)) throw invalid(field, "must be an IANA time zone such as Europe/Moscow");
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw invalid(field, "must be an IANA time zone such as Europe/Moscow");
  }
}

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Years outside this window are typos, not concerts. */
const MIN_YEAR = 2000;
const MAX_YEAR = 2200;

/** An ISO 8601 string with an offset, or epoch milliseconds; returns epoch milliseconds. */
export function instant(value: unknown, field: string): number {
  const ms = typeof value === "number" ? value : typeof value === "string" ? parseIso(value, field) : NaN;
  if (!Number.isSafeInteger(ms)) throw invalid(field, "must be an ISO 8601 date-time with an offset, or epoch milliseconds");
  const year = new Date(ms).getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) throw invalid(field, `must be between the years ${MIN_YEAR} and ${MAX_YEAR}`);
  return ms;
}

function parseIso(value: string, field: string): number {
  const m = ISO_WITH_OFFSET.exec(value);
  if (!m) throw invalid(field, "must be an ISO 8601 date-time with an offset, e.g. 2025-06-01T19:00:00+03:00");
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  // Date.parse rolls 30 February over into March; a calendar check refuses it.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw invalid(field, "is not a valid calendar date and time");
  }
  return Date.parse(value);
}

/** The zone's offset from UTC at that instant, as "+03:00". */
export function utcOffset(epochMs: number, zone: string): string {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(epochMs)
    .find((part) => part.type === "timeZoneName")?.value;
  // ICU writes "GMT" alone for a zero offset.
  return name && name !== "GMT" ? name.slice(3) : "+00:00";
}

/**
 * The zone's offset from UTC at that instant in hours, as the partner contract types it: 3 for
 * Moscow, 5.5 for India, 5.75 for Nepal, -4 for New York in summer and -5 in winter.
 */
export function utcOffsetHours(epochMs: number, zone: string): number {
  const offset = utcOffset(epochMs, zone);
  const sign = offset.startsWith("-") ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) + Number(offset.slice(4, 6)) / 60);
}

/** The instant as local time of the zone with its offset: "2025-06-01T19:00:00+03:00". */
export function formatInstant(epochMs: number, zone: string): string {
  const offset = utcOffset(epochMs, zone);
  const sign = offset.startsWith("-") ? -1 : 1;
  const offsetMs = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
  const local = new Date(epochMs + offsetMs).toISOString();
  const withoutZ = epochMs % 1000 === 0 ? local.slice(0, 19) : local.slice(0, 23);
  return withoutZ + offset;
}
