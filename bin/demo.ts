/**
 * Fills a running quick start with a believable catalogue (bin/demo-catalogue.ts) through the
 * REST API, with tokens of the development issuer:
 *   npm start            # in one terminal
 *   npm run demo         # in another (same PORT / PUBLIC_URL / DATA_DIR)
 * Idempotent: everything has a fixed id and is looked up before it is made, so a second run
 * finds it all and changes nothing. Prints what it made and what was already there.
 */
import { loadOrCreateDevIssuer, type DevIssuer } from "../lib/auth/dev-issuer";
import { loadConfig } from "../lib/config/config";
import { DEMO_EVENTS, DEMO_ORGANIZERS, DEMO_VENUES, type DemoEvent, type DemoVenue } from "./demo-catalogue";

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

type Outcome = "made" | "there";

class DemoError extends Error {}

function client(apiUrl: string) {
  return async (method: string, path: string, token: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

/**
 * `inDays` from today at `localTime` in the zone, plus `plusHours`, as ISO 8601 with the zone's
 * offset that day (e.g. 2027-01-20T20:00:00+03:00).
 */
function localDateTime(inDays: number, localTime: string, timezone: string, plusHours = 0): string {
  const day = new Date(Date.now() + inDays * 86_400_000);
  const offset =
    new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
      .formatToParts(day)
      .find((part) => part.type === "timeZoneName")!
      .value.replace("GMT", "") || "+00:00";
  const start = Date.parse(`${day.toISOString().slice(0, 10)}T${localTime}:00${offset}`);
  const [sign, hours, minutes] = [offset[0] === "-" ? -1 : 1, Number(offset.slice(1, 3)), Number(offset.slice(4, 6))];
  const local = new Date(start + plusHours * 3_600_000 + sign * (hours * 60 + minutes) * 60_000);
  return `${local.toISOString().slice(0, 19)}${offset}`;
}

function seatIds(venue: DemoVenue, sections: string[]): string[] {
  return (venue.sections ?? [])
    .filter((section) => sections.includes(section.id))
    .flatMap((section) =>
      Array.from({ length: section.rows }, (_, r) =>
        Array.from({ length: section.seats }, (_, s) => `${section.id}:${r + 1}:${s + 1}`),
      ).flat(),
    );
}

async function run(apiUrl: string, issuer: DevIssuer): Promise<string[]> {
  const api = client(apiUrl);
  const admin = await issuer.mint({ sub: "demo-admin", roles: ["admin"] });
  const organizerToken = (organizerId: string) => issuer.mint({ sub: `demo-${organizerId}`, roles: ["organizer"], organizerId });
  const report: string[] = [];

  /** Looks the thing up; makes it when the API does not know it. */
  const ensure = async (what: string, path: string, token: string, make: () => Promise<Answer>): Promise<Outcome> => {
    const found = await api("GET", path, token);
    if (found.status === 200) return "there";
    if (found.status !== 404) throw new DemoError(`GET ${path}: ${found.status} ${JSON.stringify(found.body)}`);
    const made = await make();
    if (made.status !== 201) throw new DemoError(`${what}: ${made.status} ${JSON.stringify(made.body)}`);
    return "made";
  };

  for (const organizer of DEMO_ORGANIZERS) {
    const outcome = await ensure(`organizer ${organizer.id}`, `/organizers/${organizer.id}`, admin, () =>
      api("POST", "/organizers", admin, organizer),
    );
    report.push(`${outcome === "made" ? "made " : "found"}  organizer ${organizer.id}: ${organizer.name}`);
  }

  for (const venue of DEMO_VENUES) {
    const token = await organizerToken(venue.organizerId);
    const { sections, organizerId: _by, ...fields } = venue;
    const body = sections
      ? {
          ...fields,
          layout: {
            sections: sections.map((section) => ({
              id: section.id,
              name: section.name,
              rows: Array.from({ length: section.rows }, (_, r) => ({
                id: String(r + 1),
                seats: Array.from({ length: section.seats }, (_, s) => String(s + 1)),
              })),
            })),
          },
        }
      : fields;
    const outcome = await ensure(`venue ${venue.id}`, `/venues/${venue.id}`, token, () => api("POST", "/venues", token, body));
    const size = sections ? `${sections.reduce((n, s) => n + s.rows * s.seats, 0)} seats` : `${venue.capacity} standing`;
    report.push(`${outcome === "made" ? "made " : "found"}  venue ${venue.id}: ${venue.name}, ${venue.city} (${size})`);
  }

  for (const event of DEMO_EVENTS)
    report.push(...(await ensureEvent(api, await organizerToken(event.organizerId), event, ensure)));
  return report;
}

async function ensureEvent(
  api: ReturnType<typeof client>,
  token: string,
  event: DemoEvent,
  ensure: (what: string, path: string, token: string, make: () => Promise<Answer>) => Promise<Outcome>,
): Promise<string[]> {
  const venue = DEMO_VENUES.find((v) => v.id === event.venueId)!;
  const lines: string[] = [];
  const outcome = await ensure(`event ${event.id}`, `/events/${event.id}`, token, () =>
    api("POST", "/events", token, {
      id: event.id,
      venueId: event.venueId,
      name: event.name,
      description: event.description,
      category: event.category,
      startsAt: localDateTime(event.inDays, event.localTime, venue.timezone),
      endsAt: localDateTime(event.inDays, event.localTime, venue.timezone, event.durationHours),
    }),
  );
  const current = await api("GET", `/events/${event.id}`, token);
  // Another organizer's event of the same id (made by hand): refuse rather than half-fill it.
  const owner = (current.body.organizer as { id?: string } | undefined)?.id;
  if (owner !== event.organizerId) {
    throw new DemoError(`event ${event.id} exists but belongs to ${String(owner)}: the demo fills an empty quick start`);
  }
  const have = new Set(((current.body.categories ?? []) as Array<{ id: string }>).map((c) => c.id));
  for (const category of event.categories) {
    if (have.has(category.categoryId)) continue;
    const allocation = category.sections
      ? { kind: "seated", seats: seatIds(venue, category.sections) }
      : { kind: "ga", capacity: category.capacity };
    const body = { categoryId: category.categoryId, name: category.name, price: category.price, currency: "RUB", ...allocation };
    const added = await api("POST", `/events/${event.id}/categories`, token, body);
    if (added.status !== 201)
      throw new DemoError(`category ${event.id}/${category.categoryId}: ${added.status} ${JSON.stringify(added.body)}`);
    lines.push(`made   category ${event.id}/${category.categoryId}: ${category.name} at ${category.price} kopecks`);
  }
  if (current.body.status === "draft") {
    const published = await api("POST", `/events/${event.id}/publish`, token);
    if (published.status !== 200)
      throw new DemoError(`publish ${event.id}: ${published.status} ${JSON.stringify(published.body)}`);
    lines.push(`made   publication of ${event.id}`);
  }
  const prices = event.categories.map((c) => `${c.name} ${(c.price / 100).toFixed(2)} RUB`).join(", ");
  lines.unshift(`${outcome === "made" ? "made " : "found"}  event ${event.id}: ${event.name} at ${venue.name} (${prices})`);
  return lines;
}

async function main(): Promise<number> {
  // The same settings the server reads: its URL, its development issuer.
  const config = loadConfig(process.env);
  if (config.auth.mode !== "dev") {
    process.stderr.write("demo: the API trusts an OIDC issuer here; the demo fills a quick start (development issuer) only.\n");
    return 1;
  }
  const apiUrl = `${config.http.publicUrl.replace(/\/+$/, "")}/api`;
  const ready = await fetch(`${apiUrl}/ready`).catch(() => null);
  if (!ready?.ok) {
    process.stderr.write(`demo: no quick start answers at ${apiUrl} (start it with npm start, same PORT and DATA_DIR)\n`);
    return 1;
  }
  const { auth } = config;
  const issuer = await loadOrCreateDevIssuer({ dataDir: auth.dataDir, issuer: auth.issuer, audience: auth.audience });
  const report = await run(apiUrl, issuer);
  process.stdout.write(`${report.join("\n")}\n`);
  const made = report.filter((line) => line.startsWith("made")).length;
  process.stdout.write(
    made === 0
      ? "demo: everything was already there; nothing changed.\n"
      : `demo: ${made} things made. Browse them: curl ${apiUrl}/events\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
