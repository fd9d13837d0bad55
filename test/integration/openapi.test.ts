import { startApp, type App } from "../../lib/app/app";
import { apiClient } from "../support/api-client";
import { devIssuerOf } from "../support/quickstart";
import { ROUTES } from "../../services/api/api.service";
import { quickStartEnv } from "../support/quickstart";

type Operation = {
  operationId: string;
  parameters: Array<{ name: string; in: string; required: boolean; schema: object }>;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  security: object[];
  "x-roles": string[];
  requestBody?: { content: Record<string, { schema: object }> };
};
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

/** The API document and its Swagger UI, over a real socket from a quick start. */
describe("API document and docs page", () => {
  let app: App;
  let base: string;
  const env = quickStartEnv("openapi");

  beforeAll(async () => {
    app = await startApp(env);
    base = app.apiUrl!.replace(/\/api$/, "");
  });
  afterAll(async () => app?.stop());

  it("is an OpenAPI 3.1 document naming every route with its method, parameters and answers", async () => {
    const res = await fetch(`${base}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as Document;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });

    const ids = new Set<string>();
    for (const route of Object.keys(ROUTES)) {
      const [method, path] = route.split(" ");
      const openPath = `/api/${path}`.replace(/:(\w+)/g, "{$1}");
      const op = doc.paths[openPath]?.[method.toLowerCase()];
      expect({ route, found: op !== undefined }).toEqual({ route, found: true });
      ids.add(op.operationId);
      const pathParams = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(pathParams);
      for (const p of op.parameters) expect(p.schema).toEqual(expect.any(Object));
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^2\d\d$/.test(s))).toBe(true);
      // Every refusal has the error body with its stable types.
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        expect(op.responses[status].content?.["application/json"].schema).toMatchObject({
          allOf: [{ $ref: "#/components/schemas/Error" }, { properties: { type: { enum: expect.any(Array) } } }],
        });
      }
      expect(statuses).toContain("503");
      if (op["x-roles"].length) expect(statuses).toContain("401");
      if (method === "POST" || method === "PATCH") expect(statuses).toEqual(expect.arrayContaining(["413", "415"]));
    }
    expect(ids.size).toBe(Object.keys(ROUTES).length);

    // Spot checks of what the actions declare.
    const create = doc.paths["/api/events"].post;
    expect(create["x-roles"]).toEqual(["organizer", "admin"]);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "403", "409", "422"]));
    expect(create.requestBody!.content["application/json"].schema).toMatchObject({
      additionalProperties: false,
      required: expect.arrayContaining(["venueId", "name", "category"]),
    });
    const search = doc.paths["/api/events"].get;
    expect(search.security).toEqual([{}, { bearer: [] }]);
    expect(search.parameters.find((p) => p.name === "pageSize")).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", exclusiveMinimum: 0, maximum: 100 },
    });
    expect(doc.paths["/api/orders"].post.responses["503"]).toMatchObject({
      content: {
        "application/json": { schema: { allOf: [{}, { properties: { type: { enum: expect.arrayContaining(["BUSY"]) } } }] } },
      },
    });
  });

  it("serves Swagger UI and its assets from the gateway, pointed at the document", async () => {
    const page = await fetch(`${base}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(
      expect.arrayContaining(["/api/docs/swagger-ui.css", "/api/docs/swagger-ui-bundle.js", "/api/docs/init.js"]),
    );
    for (const asset of assets) {
      const res = await fetch(`${base}${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      const type = res.headers.get("content-type");
      if (asset.endsWith(".js")) expect(type).toBe("text/javascript; charset=utf-8");
      else if (asset.endsWith(".css")) expect(type).toBe("text/css; charset=utf-8");
      else expect(type).toBe("image/png");
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await fetch(`${base}/api/docs/init.js`)).text();
    expect(init).toContain('url: "/api/openapi.json"');
    expect(init).toContain("persistAuthorization: true");
    // Only the page's files: nothing else of the package (or the disk) is reachable.
    expect((await fetch(`${base}/api/docs/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/api/docs/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it("names a category's tickets `capacity` in and out; `quota`, the old name, still works and is marked deprecated", async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as Document;
    const body = doc.paths["/api/events/{id}/categories"].post.requestBody!.content["application/json"].schema as {
      properties: Record<string, { deprecated?: boolean }>;
    };
    expect(body.properties.capacity).toMatchObject({ type: "integer" });
    expect(body.properties.capacity.deprecated).toBeUndefined();
    expect(body.properties.quota.deprecated).toBe(true);

    const api = apiClient(app.apiUrl!);
    const token = await (await devIssuerOf(env)).mint({ sub: "names", roles: ["organizer"], organizerId: "org-n" });
    expect((await api("POST", "/organizers", { token, body: { name: "Names" } })).status).toBe(201);
    const venue = { id: "hall-n", name: "Hall", address: "Street 1", city: "Moscow", timezone: "Europe/Moscow", capacity: 100 };
    expect((await api("POST", "/venues", { token, body: venue })).status).toBe(201);
    const event = { id: "ev-n", venueId: "hall-n", name: "Show", category: "concert" };
    const times = { startsAt: "2030-06-01T19:00:00+03:00", endsAt: "2030-06-01T22:00:00+03:00" };
    expect((await api("POST", "/events", { token, body: { ...event, ...times } })).status).toBe(201);
    const ga = { name: "Floor", price: 100000, currency: "RUB", kind: "ga" };
    type Categories = { categories: Array<{ id: string; capacity: number }> };
    const added = await api<Categories>("POST", "/events/ev-n/categories", {
      token,
      body: { categoryId: "floor", ...ga, capacity: 7 },
    });
    expect(added.status).toBe(201);
    expect(added.body.categories).toEqual([expect.objectContaining({ id: "floor", capacity: 7 })]);
    const renamed = await api<Categories>("PATCH", "/events/ev-n/categories/floor", { token, body: { quota: 5 } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.categories).toEqual([expect.objectContaining({ id: "floor", capacity: 5 })]);
    const both = await api("PATCH", "/events/ev-n/categories/floor", { token, body: { quota: 5, capacity: 6 } });
    expect(both.status).toBe(422);
    expect(both.body).toMatchObject({ type: "VALIDATION_ERROR", data: [expect.objectContaining({ field: "quota" })] });
  });
});
