import { request as httpRequest } from "node:http";
import { ROUTES } from "../../services/api/api.service";
import { tail } from "../support/cluster";
import { apiClient } from "../support/api-client";
import { devIssuerOf, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";

/**
 * A seeded, bounded fuzz of every route of the quick start over real HTTP, with every role's
 * token and without one: malformed bodies, queries and path parameters. Whatever arrives, the
 * answer is never a 5xx, never repeats what was sent, and the process keeps answering.
 */

const SEED = 0x8e11_2026;
const CASES_PER_ROUTE_AND_CALLER = 12;
const REQUEST_TIMEOUT_MS = 15_000;

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Text planted in the request that the answer must not contain. */
  marker: string;
  what: string;
}

interface FuzzAnswer {
  status: number;
  text: string;
}

function send(baseUrl: string, r: FuzzRequest): Promise<FuzzAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: `${url.pathname}${r.path}`,
        headers: { ...r.headers, ...(r.body ? { "content-length": String(r.body.length) } : {}) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(r.body);
  });
}

const FIELDS = [
  "id",
  "name",
  "eventId",
  "items",
  "seats",
  "customer",
  "ticketIds",
  "barcode",
  "reason",
  "price",
  "quota",
  "legals",
  "layout",
  "startsAt",
  "endsAt",
  "venueId",
  "artistIds",
  "categoryId",
  "event",
  "object",
  "type",
];

/** The fuzz's vocabulary of bad input, each a function of the PRNG and a marker to plant. */
function generators(rand: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const int = (max: number) => Math.floor(rand() * max);
  const wrongValue = (marker: string): unknown =>
    pick<() => unknown>([
      () => marker,
      () => `${marker}${"x".repeat(5000 + int(20_000))}`,
      () => 1e308,
      () => -1e308,
      () => Number.MAX_SAFE_INTEGER * 1024,
      () => -0,
      () => true,
      () => null,
      () => [marker, 1, null, { [marker]: marker }],
      () => ({ [marker]: { nested: marker } }),
      () => Array.from({ length: 2000 + int(3000) }, () => marker),
      () => `<script>${marker}</script>\u0000\u202e`,
    ])();
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const bodies: Array<[string, (marker: string) => { body: Buffer; contentType?: string }]> = [
    [
      "deep objects",
      (m) => {
        const n = 33 + int(20_000);
        return { body: Buffer.from(`{"name":${'{"a":'.repeat(n)}"${m}"${"}".repeat(n)}}`) };
      },
    ],
    [
      "deep arrays",
      (m) => {
        const n = 33 + int(20_000);
        return { body: Buffer.from(`{"items":${"[".repeat(n)}"${m}"${"]".repeat(n)}}`) };
      },
    ],
    [
      "nesting just inside the limit",
      (m) => ({ body: Buffer.from(`{"${pick(FIELDS)}":${'{"a":'.repeat(30)}"${m}"${"}".repeat(30)}}`) }),
    ],
    [
      "huge array",
      (m) => ({
        body: json({ [pick(FIELDS)]: Array.from({ length: 20_000 + int(20_000) }, (_, i) => (i % 2 ? 0 : m.slice(0, 3))) }),
      }),
    ],
    ["__proto__ key", (m) => ({ body: Buffer.from(`{"__proto__":{"${m}":"${m}","roles":["admin"]},"name":"${m}"}`) })],
    [
      "constructor.prototype",
      (m) => ({ body: Buffer.from(`{"constructor":{"prototype":{"${m}":1}},"${pick(FIELDS)}":{"__proto__":{"x":"${m}"}}}`) }),
    ],
    [
      "wrong types",
      (m) => {
        const body: Record<string, unknown> = {};
        for (let i = 0; i < 1 + int(4); i++) body[pick(FIELDS)] = wrongValue(m);
        return { body: json(body) };
      },
    ],
    [
      "invalid UTF-8",
      (m) => ({
        body: Buffer.concat([Buffer.from(`{"name":"${m}`), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff]), Buffer.from('"}')]),
      }),
    ],
    [
      "giant number literals",
      (m) => ({
        body: Buffer.from(`{"${pick(FIELDS)}":1e400,"quantity":-1e999,"price":123456789012345678901234567890,"m":"${m}"}`),
      }),
    ],
    ["not JSON", (m) => ({ body: Buffer.from(`{"name": ${m} NaN, Infinity`) })],
    ["array at the top", (m) => ({ body: json([m, { name: m }]) })],
    ["text/plain", (m) => ({ body: json({ name: m }), contentType: "text/plain" })],
    [
      "form-encoded",
      (m) => ({ body: Buffer.from(`name=${m}&__proto__[admin]=1`), contentType: "application/x-www-form-urlencoded" }),
    ],
    [
      "multipart",
      (m) => ({
        body: Buffer.from(`--b\r\ncontent-disposition: form-data; name="x"\r\n\r\n${m}\r\n--b--`),
        contentType: "multipart/form-data; boundary=b",
      }),
    ],
    [
      "UTF-16 charset",
      (m) => ({ body: Buffer.from(JSON.stringify({ name: m }), "utf16le"), contentType: "application/json; charset=utf-16" }),
    ],
    ["no content type", (m) => ({ body: json({ name: m }), contentType: "" })],
    ["over the size limit", (m) => ({ body: json({ name: `${m}${"y".repeat(270_000)}` }) })],
    ["long strings", (m) => ({ body: json({ [pick(FIELDS)]: `${m}${"z".repeat(100_000)}`, name: `${m}${"w".repeat(300)}` }) })],
  ];
  const queries: Array<(m: string) => string> = [
    () => `page=${pick(["1e308", "1e400", "NaN", "Infinity", "-Infinity", "-0x1f", "0x10", "-0", "9".repeat(400), "1.5", "0"])}`,
    () => `pageSize=${pick(["1e308", "-1", "100000", "NaN", "1e2"])}&page=${pick(["2", "1e9"])}`,
    (m) => `sort=${m}&select=${m},password`,
    (m) => `q=${m}${"q".repeat(int(3000))}&city=${m}&from=${pick(["1e308", m, "9999-99-99"])}&to=-1e400`,
    (m) => `page[${m}][a][b][c][d][e][f]=1&page[]=2&pageSize[]=3`,
    (m) => `__proto__[${m}]=1&constructor[prototype][x]=${m}&query[$where]=${m}`,
    (m) => `${m}=${"%FF%FE%C3%28"}&status=${m}&organizer=${m}`,
    // Past qs's 1,000 parameters, within Node's 16 KB of headers.
    (m) => Array.from({ length: 1100 }, (_, i) => `k${i}=${i % 100 ? 1 : m}`).join("&"),
  ];
  const pathParams: Array<(m: string) => string> = [
    (m) => `${m}${"x".repeat(300)}`,
    (m) => `${m}%E0%A4%A`,
    (m) => `${m}%00%0A`,
    (m) => `..%2F..%2F${m}`,
    (m) => encodeURIComponent(`${m}<>"' ✓ ${"\u202e"}`),
    (m) => `${m}%25%`,
    () => "nope-1",
  ];
  return { pick, int, bodies, queries, pathParams };
}

describe("fuzz: every route, every role, malformed input", () => {
  let qs: QuickStartProcess;
  const tokens: Record<string, string | undefined> = { anonymous: undefined };

  beforeAll(async () => {
    qs = await startQuickStartProcess("fuzz", { RATE_LIMIT_PER_MINUTE: "0" });
    const issuer = await devIssuerOf(qs.env);
    tokens.customer = await issuer.mint({ sub: "fz-customer", roles: ["customer"] });
    tokens.organizer = await issuer.mint({ sub: "fz-organizer", roles: ["organizer"], organizerId: "org-fz" });
    tokens.admin = await issuer.mint({ sub: "fz-admin", roles: ["admin"] });
    tokens.checker = await issuer.mint({ sub: "fz-checker", roles: ["checker"], organizerId: "org-fz" });
    const api = apiClient(qs.apiUrl);
    // Something real behind some of the ids, so refusals come from deeper than the validator too.
    expect((await api("POST", "/organizers", { token: tokens.admin, body: { id: "org-fz", name: "Fuzz" } })).status).toBe(201);
  }, 90_000);
  afterAll(async () => qs?.stop());

  test("no 5xx, no echo, no crash", async () => {
    const rand = prng(SEED);
    const { pick, int, bodies, queries, pathParams } = generators(rand);
    const counts = { requests: 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, crashes: 0, echoes: 0 };
    const failures: string[] = [];
    let seq = 0;
    const started = Date.now();
    for (const route of Object.keys(ROUTES)) {
      const [method, pattern] = route.split(" ");
      for (const [caller, token] of Object.entries(tokens)) {
        for (let i = 0; i < CASES_PER_ROUTE_AND_CALLER; i++) {
          const marker = `FZ${(seq++).toString(36).padStart(5, "0")}MK`;
          const kind = int(3);
          const path = `/${pattern.replace(/:(\w+)/g, () => (kind === 2 || rand() < 0.3 ? pick(pathParams)(marker) : "nope-1"))}`;
          const query = kind === 1 || rand() < 0.2 ? `?${pick(queries)(marker)}` : "";
          const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
          if (rand() < 0.15) headers["idempotency-key"] = rand() < 0.5 ? `key-${marker}` : `${marker} !bad`;
          let body: Buffer | undefined;
          let what = `${route} as ${caller}`;
          if (kind === 0 || (method !== "GET" && rand() < 0.5)) {
            const [name, make] = pick(bodies);
            const made = make(marker);
            body = made.body;
            const contentType = made.contentType ?? "application/json";
            if (contentType) headers["content-type"] = contentType;
            what += `, body: ${name}`;
          }
          if (query) what += `, query: ${query.slice(0, 60)}`;
          const r: FuzzRequest = { method, path: `${path}${query}`, headers, body, marker, what };
          counts.requests++;
          try {
            const answer = await send(qs.apiUrl, r);
            const bucket = `${Math.floor(answer.status / 100)}xx` as "2xx" | "3xx" | "4xx" | "5xx";
            counts[bucket]++;
            if (answer.status >= 500) failures.push(`${answer.status} for ${what}: ${answer.text.slice(0, 300)}`);
            if (answer.text.includes(marker)) {
              counts.echoes++;
              failures.push(`echo for ${what}: ${answer.text.slice(0, 300)}`);
            }
          } catch (err) {
            failures.push(`no answer for ${what}: ${(err as Error).message}`);
          }
          if (!qs.alive()) {
            counts.crashes++;
            failures.push(`the process died after ${what}`);
            break;
          }
        }
        if (counts.crashes) break;
      }
      if (counts.crashes) break;
    }
    const health = await send(qs.apiUrl, { method: "GET", path: "/health", headers: {}, marker: "", what: "health" }).catch(
      (err: Error) => ({ status: 0, text: err.message }),
    );
    console.log(`gateway fuzz (seed ${SEED.toString(16)}, ${Date.now() - started} ms): ${JSON.stringify(counts)}`);
    if (failures.length)
      throw new Error(`${failures.length} failures:\n${failures.slice(0, 30).join("\n")}\n${tail(qs.node, 30)}`);
    expect(counts["5xx"]).toBe(0);
    expect(counts.crashes).toBe(0);
    expect(counts.echoes).toBe(0);
    expect(qs.alive()).toBe(true);
    expect(health.status).toBe(200);
  }, 120_000);
});
