import type { ServiceSchema } from "moleculer";
import { Errors } from "moleculer";
import { startApp, type App } from "../../lib/app/app";
import { ROUTES } from "../../services/api/api.service";
import { apiClient, type ApiResponse } from "../support/api-client";
import { devIssuerOf, quickStartEnv, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";
import { tail } from "../support/cluster";

/** `n` objects nested in one another: `{"a":{"a":...1...}}`, built as text (JSON.stringify would overflow first). */
function nested(n: number, inner = "1"): string {
  return '{"a":'.repeat(n) + inner + "}".repeat(n);
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

/**
 * What one request can do to a quick start, over real HTTP, in its own process: the request
 * that killed it (a deeply nested body), and the rest of the class: size, encoding, prototype
 * keys, numbers in queries, what refusals tell and in which order.
 */
describe("gateway: one request never takes the process down", () => {
  let qs: QuickStartProcess;
  let admin: string;
  let customer: string;
  const api = () => apiClient(qs.apiUrl);

  beforeAll(async () => {
    qs = await startQuickStartProcess("hardening");
    const issuer = await devIssuerOf(qs.env);
    admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    customer = await issuer.mint({ sub: "cus", roles: ["customer"] });
  }, 90_000);
  afterAll(async () => qs?.stop());
  afterEach(() => {
    if (!qs.alive()) throw new Error(`the quick start died\n${tail(qs.node)}`);
  });

  test("the reported crash: an anonymous POST /api/organizers nesting 20,000 objects (120 KB)", async () => {
    const body = `{"name":${nested(20_000)}}`;
    expect(body.length).toBeGreaterThan(120_000);
    for (const token of [undefined, admin]) {
      const res = await post(`${qs.apiUrl}/organizers`, body, token ? { authorization: `Bearer ${token}` } : {});
      expect([res.status, res.body.type]).toEqual([400, "JSON_TOO_DEEP"]);
      expect(res.body.message).toMatch(/deeper than 32 levels/);
    }
    // Deep arrays in another field, the issue's second case.
    const arrays = `{"name":"x","legals":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    expect((await post(`${qs.apiUrl}/organizers`, arrays, { authorization: `Bearer ${admin}` })).status).toBe(400);
    expect((await api()("GET", "/health")).status).toBe(200);
    expect(qs.alive()).toBe(true);
  });

  test("a body within the depth limit that fails validation: 422 that names the field, never the value", async () => {
    const marker = "ECHO-MARKER-5f1c9e";
    const res = await post(`${qs.apiUrl}/organizers`, `{"name":${nested(30, `"${marker}"`)}}`, {
      authorization: `Bearer ${admin}`,
    });
    expect(res.status).toBe(422);
    expect(res.body.data).toEqual([{ type: "string", field: "name", message: "The 'name' field must be a string." }]);
    expect(JSON.stringify(res.body)).not.toContain(marker);
    // A value quoted in a refusal deeper down (a legal form that does not exist) is not echoed either.
    const legal = await post(
      `${qs.apiUrl}/organizers`,
      JSON.stringify({ name: "X", legals: { name: "L", type: marker, inn: "7707083893" } }),
      { authorization: `Bearer ${admin}` },
    );
    expect(legal.status).toBe(422);
    expect(JSON.stringify(legal.body)).not.toContain(marker);
    expect(JSON.stringify(legal.body)).not.toContain('"actual"');
  });

  test("size, encoding and media type are refused before anything parses, each naming its limit", async () => {
    const auth = { authorization: `Bearer ${admin}` };
    const big = await post(`${qs.apiUrl}/organizers`, JSON.stringify({ name: "x".repeat(300_000) }), auth);
    expect([big.status, big.body.type, big.body.message]).toEqual([
      413,
      "PAYLOAD_TOO_LARGE",
      "the body is larger than 262144 bytes",
    ]);
    const latin1 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const utf8 = await post(`${qs.apiUrl}/organizers`, latin1, auth);
    expect([utf8.status, utf8.body.type]).toEqual([400, "INVALID_UTF8"]);
    const notJson = await post(`${qs.apiUrl}/organizers`, '{"name": "ECHO-MARKER-x1"', auth);
    expect([notJson.status, notJson.body.type]).toEqual([400, "INVALID_JSON"]);
    expect(JSON.stringify(notJson.body)).not.toContain("ECHO-MARKER");
    const array = await post(`${qs.apiUrl}/organizers`, "[1,2]", auth);
    expect([array.status, array.body.type]).toEqual([400, "BODY_NOT_OBJECT"]);
    const text = await post(`${qs.apiUrl}/organizers`, '{"name":"x"}', { ...auth, "content-type": "text/plain" });
    expect([text.status, text.body.type]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const wrongCharset = await post(`${qs.apiUrl}/organizers`, '{"name":"x"}', {
      ...auth,
      "content-type": "application/json; charset=latin1",
    });
    expect(wrongCharset.status).toBe(415);
  });

  test("__proto__, constructor and prototype keys are refused like any field the action does not accept", async () => {
    const auth = { authorization: `Bearer ${admin}` };
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const res = await post(`${qs.apiUrl}/organizers`, `{"${key}":{"name":"polluted"},"name":"Proto ${key}"}`, auth);
      expect(res.status).toBe(422);
      expect(res.body.data).toEqual([
        { type: "objectStrict", field: "", message: `The request has a field it does not accept: '${key}'.` },
      ]);
    }
    const deeper = await post(`${qs.apiUrl}/organizers`, '{"name":"X","legals":{"__proto__":{"inn":"1"}}}', auth);
    expect(deeper.status).toBe(422);
    expect((deeper.body.data as Array<{ field: string }>)[0].field).toBe("legals");
    // Nothing was created.
    const list = await api()<{ total: number }>("GET", "/organizers");
    expect(list.body.total).toBe(0);
  });

  test("numbers in queries: giant, infinite, not a number, hexadecimal are refused on every list", async () => {
    const lists: Array<[string, string | undefined]> = [
      ["/organizers", undefined],
      ["/artists", undefined],
      ["/venues", undefined],
      ["/events", undefined],
      ["/me/orders", customer],
      ["/me/tickets", customer],
    ];
    for (const [path, token] of lists) {
      for (const value of ["1e308", "1e400", "NaN", "Infinity", "-0x10", "0", "-1", "1.5", "99999999"]) {
        for (const name of ["page", "pageSize"]) {
          const res = await api()("GET", `${path}?${name}=${encodeURIComponent(value)}`, { token });
          expect([path, name, value, res.status]).toEqual([path, name, value, 422]);
        }
      }
      expect((await api()("GET", `${path}?page=2&pageSize=5`, { token })).status).toBe(200);
    }
  });

  test("an anonymous caller's refusal names no node and no internal action", async () => {
    const res = await api()("GET", "/events?page=abc");
    expect(res.status).toBe(422);
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/nodeID|"action"|events\.search|hardening/);
    expect(res.body.data).toEqual([{ type: "number", field: "page", message: "The 'page' field must be a number." }]);
  });

  test("the role check comes first: on every route that needs a role, a bad body answers 401/403, never 422", async () => {
    const garbage = JSON.stringify({ bogus: 1, id: "%%%", name: 5 });
    const health = await api()<{ nodeID: string }>("GET", "/health");
    expect(health.status).toBe(200);
    let checked = 0;
    for (const [route] of Object.entries(ROUTES)) {
      const [method, pattern] = route.split(" ");
      if (method === "GET" || pattern.startsWith("payments/") || pattern === "health" || pattern === "ready") continue;
      const path = `/${pattern.replace(/:(\w+)/g, "x-$1")}`;
      const anonymous = await fetch(`${qs.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: garbage,
      });
      expect([route, anonymous.status]).toEqual([route, 401]);
      const asCustomer = await fetch(`${qs.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${customer}` },
        body: garbage,
      });
      // A customer may place orders, cancel its own, change its own profile and devices, and queue
      // for an event: those validate (422); the rest are forbidden.
      const anyUser = [
        "POST orders",
        "POST orders/:id/cancel",
        "PATCH me",
        "POST me/devices",
        "DELETE me/devices/:id",
        "POST events/:id/queue",
      ];
      const expected = anyUser.includes(route) ? 422 : 403;
      expect([route, asCustomer.status]).toEqual([route, expected]);
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});

describe("gateway: in-process checks of the whole route table", () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp(quickStartEnv("route-table"));
  });
  afterAll(async () => app?.stop());

  test("every numeric parameter of every action behind a route has an upper bound", () => {
    const actions = new Map(
      (app.broker.registry.getActionList({ onlyLocal: true }) as Array<{ name: string; action?: { params?: unknown } }>).map(
        (a) => [a.name, a.action?.params],
      ),
    );
    const unbounded: string[] = [];
    const visit = (rule: unknown, path: string) => {
      if (rule === "number" || (typeof rule === "string" && rule.startsWith("number"))) unbounded.push(path);
      if (typeof rule !== "object" || rule === null) return;
      if (Array.isArray(rule)) return rule.forEach((r, i) => visit(r, `${path}|${i}`));
      const r = rule as Record<string, unknown>;
      if (r.type === "number" && typeof r.max !== "number") unbounded.push(path);
      if (r.type === "multi") visit(r.rules, path);
      if (r.type === "array") visit(r.items, `${path}[]`);
      if (r.type === "object" && r.props) visit(r.props, path);
      if (r.type === undefined)
        for (const [k, v] of Object.entries(r)) if (!k.startsWith("$$")) visit(v, path ? `${path}.${k}` : k);
    };
    for (const action of new Set(Object.values(ROUTES))) {
      expect([action, actions.has(action)]).toEqual([action, true]);
      visit(actions.get(action), action);
    }
    expect(unbounded).toEqual([]);
  });
});

describe("gateway: a failure while encoding an answer", () => {
  let app: App;
  beforeAll(async () => {
    // A gateway whose `organizers` answers what cannot be encoded (as a bug would).
    app = await startApp(quickStartEnv("encoding", { SERVICES: "api,runners" }));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const broken: ServiceSchema = {
      name: "organizers",
      actions: {
        list: () => circular,
        get: () => {
          throw new Errors.MoleculerClientError("refused", 409, "REFUSED", { big: 10n });
        },
        create: () => ({ big: 10n }),
      },
    };
    app.broker.createService(broken);
    await app.broker.waitForServices("organizers");
  });
  afterAll(async () => app?.stop());

  test("answers 500 and the process lives on", async () => {
    const api = apiClient(app.apiUrl!);
    for (const [method, path] of [
      ["GET", "/organizers"],
      ["GET", "/organizers/x"],
      ["POST", "/organizers"],
    ]) {
      const res = await fetch(`${app.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect([path, res.status, ((await res.json()) as { type: string }).type]).toEqual([path, 500, "INTERNAL"]);
    }
    expect((await api("GET", "/health")).status).toBe(200);
  });
});

describe("gateway: the rate limit keys on the client, not on our proxy", () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp(quickStartEnv("rate-limit", { RATE_LIMIT_PER_MINUTE: "3", TRUSTED_PROXIES: "127.0.0.1" }));
  });
  afterAll(async () => app?.stop());

  test("behind a trusted proxy each forwarded client has its own budget", async () => {
    // Every request comes from 127.0.0.1, our proxy; X-Forwarded-For names the client.
    const from = (client: string) => fetch(`${app.apiUrl}/health`, { headers: { "x-forwarded-for": client } });
    for (let i = 0; i < 3; i++) expect((await from("203.0.113.7")).status).toBe(200);
    expect((await from("203.0.113.7")).status).toBe(429);
    expect((await from("198.51.100.4")).status).toBe(200);
    // A forged hop before the client's own address changes nothing: the nearest untrusted hop counts.
    expect((await from("198.51.100.99, 203.0.113.7")).status).toBe(429);
  });
});
