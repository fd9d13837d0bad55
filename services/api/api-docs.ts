import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { ServiceBroker } from "moleculer";
import { buildOpenApi, type ActionContract, type ErrorTable } from "../../lib/http/openapi";
import type { JsonSchema } from "../../lib/http/json-schema";

/**
 * GET /api/openapi.json (the API document, built from the route table and the registered
 * actions' schemas) and GET /api/docs (Swagger UI from the swagger-ui-dist package, no CDN).
 * Both are public: the document describes what anyone may try.
 */

const DOC_PATH = "/api/openapi.json";
const DOCS_PATH = "/api/docs";
// swagger-ui-dist's own absolute-path.js does the same (it is a CommonJS file with no types).
const SWAGGER_DIR = join(require.resolve("swagger-ui-dist/package.json"), "..");
/** The files of the page, by the name it asks for: nothing else of the package is served. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "index.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/** The page; its script is a file of its own (init.js), so a strict Content-Security-Policy can serve it. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ticketing API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="stylesheet" href="/api/docs/index.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

/** "Try it out" keeps a pasted token across reloads (persistAuthorization). */
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(DOC_PATH)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

const ANY_REQUEST: ErrorTable = {
  401: {
    TOKEN_MALFORMED: "the bearer token cannot be read",
    TOKEN_EXPIRED: "the token has expired",
    TOKEN_BAD_SIGNATURE: "the token's signature does not check out",
    TOKEN_BAD_ISSUER: "the token is from an issuer this API does not trust",
    TOKEN_BAD_AUDIENCE: "the token is meant for another audience",
    TOKEN_NOT_YET_VALID: "the token is not valid yet",
    TOKEN_WRONG_TYPE: "not an access token",
    TOKEN_ALG_NOT_ALLOWED: "the token is signed with an algorithm this API refuses",
    TOKEN_UNKNOWN_KEY: "the token is signed with a key the issuer does not publish",
  },
  503: {
    SERVICE_UNAVAILABLE: "part of the service is not answering: retry after Retry-After seconds",
    ISSUER_UNAVAILABLE: "the token issuer's keys cannot be fetched right now",
  },
};

const RATE_LIMITED = { RATE_LIMIT_EXCEEDED: "too many requests from this client this minute (RATE_LIMIT_PER_MINUTE)" };

const WITH_BODY: ErrorTable = {
  400: {
    INVALID_JSON: "the body is not valid JSON",
    INVALID_UTF8: "the body is not valid UTF-8",
    JSON_TOO_DEEP: "the body nests too deep",
    BODY_NOT_OBJECT: "the body is not a JSON object",
  },
  413: { PAYLOAD_TOO_LARGE: "the body is larger than 256 KB" },
  415: { UNSUPPORTED_MEDIA_TYPE: "the body is not application/json in UTF-8" },
};

const IDEMPOTENCY_KEY: ErrorTable = {
  400: { BAD_IDEMPOTENCY_KEY: "the Idempotency-Key header is malformed" },
  422: { IDEMPOTENCY_KEY_REUSED: "the key was used for a different request" },
};

const ID = { type: "string" };
const TIMESTAMP = { type: "number" };
/** Catalogue entities require nothing: `select` lets a client ask for any subset of fields. */
function entity(fields: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: "object", required, properties: { id: ID, ...fields } };
}
/** moleculer-db's page of a list, the one envelope of every list. */
function page(row: JsonSchema): JsonSchema {
  return {
    type: "object",
    required: ["rows", "total", "page", "pageSize", "totalPages"],
    properties: {
      rows: { type: "array", items: row },
      total: { type: "integer" },
      page: { type: "integer" },
      pageSize: { type: "integer" },
      totalPages: { type: "integer" },
    },
  };
}

const ORGANIZER = entity({ name: { type: "string" }, legals: { type: ["object", "null"] }, createdAt: TIMESTAMP });
const ARTIST = entity({ name: { type: "string" }, createdAt: TIMESTAMP });
const VENUE = entity({ name: { type: "string" }, capacity: { type: "integer" }, createdAt: TIMESTAMP });
const EVENT = entity({
  name: { type: "string" },
  status: { type: "string" },
  startsAt: TIMESTAMP,
  categories: { type: "array", items: { type: "object" } },
  currency: { type: ["string", "null"] },
  waitingRoom: {
    type: ["object", "null"],
    description: "buyers queue before they may order (PUT /api/events/{id}/waiting-room)",
    properties: { opensAt: TIMESTAMP, opensAtIso: { type: "string" }, rate: { type: ["integer", "string"] } },
  },
});
const PLACE: JsonSchema = {
  type: "object",
  required: ["status", "preQueue", "position", "ahead", "estimatedWaitSec", "retryAfterSec", "opensAt"],
  properties: {
    status: { enum: ["waiting", "admitted", "sold_out", "expired"] },
    preQueue: { type: "boolean", description: "joined before the start: the order is drawn at the start" },
    position: { type: ["integer", "null"], description: "1-based place in the order; null in the pre-queue" },
    ahead: { type: ["integer", "null"], description: "places before this one still waiting" },
    estimatedWaitSec: { type: ["integer", "null"] },
    retryAfterSec: { type: "integer", description: "when to ask again" },
    opensAt: TIMESTAMP,
    admission: {
      type: "object",
      description: "when admitted: send token as admissionToken with POST /api/orders before expiresAt",
      properties: { token: { type: "string" }, expiresAt: TIMESTAMP },
    },
  },
};
const ORDER = entity(
  {
    status: { type: "string" },
    eventId: ID,
    amount: { type: "integer", description: "in minor units (kopecks)" },
    currency: { type: "string" },
    payment: { type: "object", properties: { confirmationUrl: { type: "string" } } },
  },
  ["id", "status", "amount", "currency"],
);
const DEVICE = entity({ kind: { enum: ["fcm", "webpush"] }, label: { type: "string" }, addedAt: TIMESTAMP }, [
  "id",
  "kind",
  "addedAt",
]);
const NULLABLE_TEXT = { type: ["string", "null"] };
const USER = entity(
  {
    name: NULLABLE_TEXT,
    email: NULLABLE_TEXT,
    phone: { type: ["string", "null"], description: "E.164, e.g. +79001234567" },
    locale: { enum: ["ru", "en", null] },
    timeZone: { type: ["string", "null"], description: "IANA zone, e.g. Europe/Moscow" },
    preferences: { type: "object", description: "per notification kind, which channels (email, sms, push) are on" },
    devices: { type: "array", items: DEVICE },
    blocked: { type: ["object", "null"], properties: { reason: { type: "string" }, at: TIMESTAMP } },
    createdAt: TIMESTAMP,
  },
  ["id", "preferences", "devices", "blocked"],
);
const NOTIFICATION = entity(
  {
    kind: { type: "string" },
    channel: { enum: ["email", "sms", "push", "none"] },
    status: { enum: ["requested", "sending", "retrying", "sent", "failed", "skipped"] },
    orderId: ID,
    eventId: ID,
    attempts: { type: "integer" },
    nextAttemptAt: { type: ["number", "null"] },
    lastError: { type: ["string", "null"] },
    reason: { type: ["string", "null"], description: "why it failed or was skipped" },
    sentAt: { type: ["number", "null"] },
    createdAt: TIMESTAMP,
  },
  ["id", "kind", "channel", "status"],
);
const TICKET = entity({ orderId: ID, eventId: ID, status: { type: "string" }, barcode: { type: "string" } }, ["id", "status"]);

/** Success bodies: the envelope and main fields (more fields may come: additionalProperties stays open). */
const SUCCESS: Record<string, JsonSchema> = {
  "api.health": { type: "object", required: ["status"], properties: { status: { const: "ok" } } },
  "api.ready": { type: "object", required: ["status"], properties: { status: { enum: ["ready", "degraded", "not_ready"] } } },
  "organizers.create": ORGANIZER,
  "organizers.list": page(ORGANIZER),
  "organizers.get": ORGANIZER,
  "organizers.update": ORGANIZER,
  "artists.create": ARTIST,
  "artists.list": page(ARTIST),
  "artists.get": ARTIST,
  "artists.update": ARTIST,
  "venues.create": VENUE,
  "venues.list": page(VENUE),
  "venues.get": VENUE,
  "venues.update": VENUE,
  "events.create": EVENT,
  "events.search": page(EVENT),
  "events.get": EVENT,
  "events.update": EVENT,
  "events.addCategory": EVENT,
  "events.updateCategory": EVENT,
  "events.removeCategory": EVENT,
  "events.publish": EVENT,
  "events.pause": EVENT,
  "events.cancel": EVENT,
  "events.finish": EVENT,
  "events.sales": { type: "object" },
  "events.configureWaitingRoom": EVENT,
  "events.removeWaitingRoom": EVENT,
  "waitingRoom.join": PLACE,
  "waitingRoom.place": PLACE,
  "orders.create": ORDER,
  "orders.get": ORDER,
  "orders.cancel": ORDER,
  "orders.mine": page(ORDER),
  "orders.refund": {
    type: "object",
    required: ["refundId", "status", "order"],
    properties: { refundId: ID, status: { const: "accepted" }, order: ORDER },
  },
  "tickets.ofOrder": page(TICKET),
  "tickets.mine": page(TICKET),
  "tickets.checkin": {
    type: "object",
    required: ["ticketId", "status"],
    properties: { ticketId: ID, status: { type: "string" }, eventId: ID, usedAt: TIMESTAMP },
  },
  "orders.yookassaWebhook": { type: "object", properties: { ok: { const: true } } },
  "users.me": USER,
  "users.updateMe": USER,
  "users.addDevice": DEVICE,
  "users.myDevices": page(DEVICE),
  "users.deleteDevice": {
    type: "object",
    required: ["id", "removed", "devices"],
    properties: { id: ID, removed: { const: true }, devices: { type: "array", items: DEVICE } },
  },
  "users.search": page(USER),
  "users.show": {
    ...USER,
    required: ["id", "orders", "tickets"],
    properties: {
      ...(USER.properties as Record<string, JsonSchema>),
      orders: { type: "integer", description: "orders the user placed" },
      tickets: { type: "integer", description: "tickets the user holds, whatever their status" },
    },
  },
  "users.block": USER,
  "users.unblock": USER,
  "notifications.mine": page(NOTIFICATION),
  "notifications.search": page(NOTIFICATION),
  "notifications.resend": NOTIFICATION,
  "notifications.vapidPublicKey": {
    type: "object",
    required: ["publicKey"],
    properties: { publicKey: { type: "string", description: "the VAPID key (base64url) for PushManager.subscribe" } },
  },
};

/** Values that make a first "Try it out" succeed more often than "text" would. */
const EXAMPLES: Record<string, unknown> = {
  id: "gig-1",
  name: "Spring concert",
  organizerId: "org-1",
  venueId: "hall-1",
  eventId: "gig-1",
  categoryId: "stalls",
  price: 250000,
  capacity: 100,
  currency: "RUB",
  startsAt: "2027-05-01T19:00:00+03:00",
  endsAt: "2027-05-01T22:00:00+03:00",
  items: [{ categoryId: "stalls", quantity: 2 }],
  customer: { email: "buyer@example.com", phone: "+79990000000" },
  phone: "+79990000000",
  timeZone: "Europe/Moscow",
  fcmToken: "fcm-registration-token-from-the-app",
  reason: "chargeback fraud",
  barcode: "0123456789ABCDEF0123456789ABCDEF",
  opensAt: "2027-04-01T12:00:00+03:00",
  rate: 100,
};

/** The document, from the actions the broker knows now (local or on other nodes). */
export function apiDocument(
  broker: ServiceBroker,
  routes: Record<string, string>,
  version: string,
  rateLimited: boolean,
): JsonSchema {
  const registered = new Map<string, ActionContract>();
  for (const item of broker.registry.getActionList({}) as Array<{ name: string; action?: ActionContract }>) {
    if (item.action) registered.set(item.name, item.action);
  }
  return buildOpenApi({
    title: "Ticketing API",
    version,
    description:
      "Concert and event ticketing. Money is always in minor units (kopecks for RUB). " +
      "Write operations need a bearer token: press Authorize and paste one (`npm run -s token -- --role organizer --organizer org-1` in the quick start).",
    routes,
    basePath: "/api",
    action: (name) => registered.get(name),
    successBody: (name) => SUCCESS[name],
    anyRequest: rateLimited ? { ...ANY_REQUEST, 429: RATE_LIMITED } : ANY_REQUEST,
    withBody: WITH_BODY,
    idempotencyKey: IDEMPOTENCY_KEY,
    examples: EXAMPLES,
  });
}

/**
 * Answers the docs' requests; false for any other request. The document is built on each
 * request (it is cheap), so it shows the actions registered now, also those of a node that
 * joined later.
 */
export async function serveDocs(req: IncomingMessage, res: ServerResponse, document: () => JsonSchema): Promise<boolean> {
  const path = (req.url ?? "").split("?")[0];
  if (path !== DOC_PATH && path !== DOCS_PATH && !path.startsWith(`${DOCS_PATH}/`)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(
      res,
      405,
      "application/json; charset=utf-8",
      JSON.stringify({ name: "MethodNotAllowed", message: "only GET", code: 405, type: "METHOD_NOT_ALLOWED" }),
      { Allow: "GET, HEAD" },
    );
    return true;
  }
  if (path === DOC_PATH) send(res, 200, "application/json; charset=utf-8", JSON.stringify(document()));
  else if (path === DOCS_PATH || path === `${DOCS_PATH}/`) send(res, 200, "text/html; charset=utf-8", PAGE);
  else {
    const name = path.slice(DOCS_PATH.length + 1);
    if (name === "init.js") send(res, 200, "text/javascript; charset=utf-8", INIT);
    else if (Object.hasOwn(ASSETS, name)) send(res, 200, ASSETS[name], await readFile(join(SWAGGER_DIR, name)));
    else
      send(
        res,
        404,
        "application/json; charset=utf-8",
        JSON.stringify({ name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" }),
      );
  }
  return true;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
