import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { hasRole, type Principal } from "../../lib/auth/principal";
import { parseBearer } from "../../lib/auth/verifier";
import { ID_PATTERN } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import { HttpDrain } from "../../lib/app/http-drain";
import { serviceUnavailable, toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import { clientAddressResolver } from "../../lib/http/client-address";
import { BodyError, jsonBody, type JsonBodyLimits, type ParsedRequest } from "../../lib/http/json-body";
import { keepIdleConnections, LISTEN_BACKLOG } from "../../lib/ports/http";
import { readiness, type ReadyReport } from "./readiness";
import { IDEMPOTENCY_COLLECTION, IdempotencyKeys, type IdempotencyRecord, type KeyClaim } from "./idempotency";
import { redactEchoes, sentStrings } from "./echo";
import { apiDocument, serveDocs } from "./api-docs";
import { observeRequests } from "./http-metrics";
import { orderPageRoute } from "./order-page";
import { FirstSight } from "./first-sight";

/** Every HTTP endpoint, named explicitly: nothing else of the cluster is reachable from outside. */
export const ROUTES: Record<string, string> = {
  "GET health": "api.health",
  "GET ready": "api.ready",

  "POST organizers": "organizers.create",
  "GET organizers": "organizers.list",
  "GET organizers/:id": "organizers.get",
  "PATCH organizers/:id": "organizers.update",

  "POST artists": "artists.create",
  "GET artists": "artists.list",
  "GET artists/:id": "artists.get",
  "PATCH artists/:id": "artists.update",

  "POST venues": "venues.create",
  "GET venues": "venues.list",
  "GET venues/:id": "venues.get",
  "PATCH venues/:id": "venues.update",

  "POST events": "events.create",
  "GET events": "events.search",
  "GET events/:id": "events.get",
  "PATCH events/:id": "events.update",
  "POST events/:id/categories": "events.addCategory",
  "PATCH events/:id/categories/:categoryId": "events.updateCategory",
  "DELETE events/:id/categories/:categoryId": "events.removeCategory",
  "POST events/:id/publish": "events.publish",
  "POST events/:id/pause": "events.pause",
  "POST events/:id/cancel": "events.cancel",
  "POST events/:id/finish": "events.finish",
  "GET events/:id/sales": "events.sales",
  "PUT events/:id/waiting-room": "events.configureWaitingRoom",
  "DELETE events/:id/waiting-room": "events.removeWaitingRoom",
  "POST events/:id/queue": "waitingRoom.join",
  "GET events/:id/queue": "waitingRoom.place",

  "POST orders": "orders.create",
  "GET orders/:id": "orders.get",
  "POST orders/:id/cancel": "orders.cancel",
  "GET me/orders": "orders.mine",
  "POST orders/:id/refunds": "orders.refund",
  "GET orders/:id/tickets": "tickets.ofOrder",
  "GET me/tickets": "tickets.mine",
  "POST checkin": "tickets.checkin",

  "POST payments/yookassa/webhook": "orders.yookassaWebhook",

  "GET me": "users.me",
  "PATCH me": "users.updateMe",
  "POST me/devices": "users.addDevice",
  "GET me/devices": "users.myDevices",
  "DELETE me/devices/:id": "users.deleteDevice",
  "GET users": "users.search",
  "GET users/:id": "users.show",
  "POST users/:id/block": "users.block",
  "POST users/:id/unblock": "users.unblock",
  "GET me/notifications": "notifications.mine",
  "GET notifications": "notifications.search",
  "POST notifications/:id/resend": "notifications.resend",
  "GET push/vapid-public-key": "notifications.vapidPublicKey",
};

/** The version of the API document (the contract clients code against, not the package's). */
const API_VERSION = "1.0.0";

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

/**
 * What a request body may be. The largest real body (a venue's seating plan) nests 6 levels;
 * nothing the API accepts comes near either limit.
 */
export const BODY_LIMITS: JsonBodyLimits = { maxBytes: 256 * 1024, maxDepth: 32 };

/** How often expired Idempotency-Key records are deleted (they expire after 24 h). */
const IDEMPOTENCY_SWEEP_MS = 10 * 60_000;

/** What every answer that went wrong while being encoded says. */
const INTERNAL_BODY = { name: "InternalError", message: "internal error; the incident was logged", code: 500, type: "INTERNAL" };

type GatewayRequest = ParsedRequest & {
  query?: Record<string, unknown>;
  originalUrl?: string;
  parsedUrl?: string;
  $params?: Record<string, unknown>;
  /** The request's Idempotency-Key record, when it sent one. */
  $keyClaim?: KeyClaim | null;
  $alias?: { action?: string; method: string; fullPath: string; match(url: string): Record<string, unknown> | false };
};

/**
 * Moleculer's own errors for a call that reached nobody: the service is not registered (its
 * node died or is restarting), has no live endpoint, or did not answer in time.
 */
const UNREACHABLE = new Set([
  "SERVICE_NOT_FOUND",
  "SERVICE_NOT_AVAILABLE",
  "REQUEST_TIMEOUT",
  "REQUEST_REJECTED",
  // A nested call not made because the request's deadline had passed (the same "not in time").
  "REQUEST_SKIPPED",
]);

/**
 * What a client should hear when part of the cluster does not answer: one retryable 503,
 * never a 404 that reads as "no such thing" (what a nested SERVICE_NOT_FOUND would say), nor
 * the names of internal actions and nodes. A 404 for the route's own action stays a 404: that
 * action is not published.
 */
export function clientError(err: Errors.MoleculerError, routeAction: string | undefined): Errors.MoleculerError {
  const unavailable =
    err.name === "ServiceUnavailableError" ||
    (UNREACHABLE.has(err.type) &&
      !(err.type === "SERVICE_NOT_FOUND" && (err.data as { action?: string } | undefined)?.action === routeAction));
  return unavailable ? serviceUnavailable() : err;
}

/** moleculer-web's own methods, for the ones this service wraps. */
const gatewayMethods = (ApiGateway as unknown as { methods: Record<string, (...args: unknown[]) => unknown> }).methods;

export default function apiService(rt: Runtime): ServiceSchema {
  const { http } = rt.config;
  const requests = new HttpDrain();
  const clientAddress = clientAddressResolver(rt.config.payments.trustedProxies);
  const idempotency = new IdempotencyKeys(rt.store.collection<IdempotencyRecord>(IDEMPOTENCY_COLLECTION));
  let sweeper: NodeJS.Timeout | null = null;
  let firstSight: FirstSight | null = null;
  return {
    name: "api",
    mixins: [ApiGateway as unknown as Partial<ServiceSchema>],
    created(this: Service) {
      firstSight = new FirstSight(this.logger);
      // moleculer-web listens with Node's defaults: see LISTEN_BACKLOG and keepIdleConnections.
      const server = (this as Service & { server: Server }).server;
      keepIdleConnections(server);
      observeRequests(server, rt.metrics);
      const listen = server.listen.bind(server);
      server.listen = ((port: number, host: string, callback: () => void) =>
        listen({ port, host, backlog: LISTEN_BACKLOG }, callback)) as typeof server.listen;
      // A stop answers the requests under way before any service stops (see lib/app/app.ts).
      rt.drains.push(async () => {
        const { graceMs } = rt.config.shutdown;
        const { inFlight, cut } = await requests.drain(server, graceMs);
        if (cut > 0) this.logger.warn(`stopping: ${cut} of ${inFlight} requests under way were cut after ${graceMs} ms`);
        else this.logger.info(`stopping: the gateway answered its ${inFlight} requests under way and closed`);
      });
    },
    async started(this: Service) {
      await idempotency.init();
      const sweep = () =>
        void idempotency.sweep().catch((err: Error) => this.logger.warn("idempotency key sweep failed:", err.message));
      sweep();
      sweeper = setInterval(sweep, IDEMPOTENCY_SWEEP_MS);
      sweeper.unref();
    },
    stopped() {
      if (sweeper) clearInterval(sweeper);
    },
    settings: {
      port: http.port,
      ip: http.host,
      cors: http.corsOrigins.length
        ? {
            origin: http.corsOrigins,
            methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
            maxAge: 600,
          }
        : undefined,
      // A coarse per-client guard (0 turns it off); fairness during on-sales belongs to the
      // inventory's queue. Behind our proxies (TRUSTED_PROXIES) the client is the address they
      // forwarded, or every client behind one proxy would share one budget.
      ...(http.rateLimitPerMinute > 0
        ? {
            rateLimit: {
              window: 60_000,
              limit: http.rateLimitPerMinute,
              headers: true,
              key: (req: IncomingMessage) => clientAddress(req.socket.remoteAddress, forwardedFor(req)) ?? "?",
            },
          }
        : {}),
      routes: [
        {
          path: "/api",
          authentication: true,
          autoAliases: false,
          mappingPolicy: "restrict",
          // Our own parser: bounded in size and depth, UTF-8 only, an object at the top.
          bodyParsers: false,
          use: [jsonBody(BODY_LIMITS)],
          aliases: ROUTES,
        },
        orderPageRoute(rt),
      ],
    } as ServiceSettingSchema,
    methods: {
      /**
       * The last line: whatever fails while answering a request answers 500, and the process
       * lives on. A stopping gateway refuses new requests (see HttpDrain).
       */
      async httpHandler(this: Service, req: IncomingMessage, res: ServerResponse, next?: unknown) {
        if (!requests.admit(req, res)) return;
        try {
          if (await serveDocs(req, res, () => apiDocument(this.broker, ROUTES, API_VERSION, http.rateLimitPerMinute > 0))) return;
          await gatewayMethods.httpHandler.call(this, req, res, next);
        } catch (err) {
          answerFailure(this, res, err);
        }
      },
      /**
       * A missing token is an anonymous caller; a present but invalid one is refused, never
       * ignored. Runs before every call (after the route is known), so it also names the
       * request's command id.
       */
      async authenticate(
        ctx: AppContext,
        _route: unknown,
        req: GatewayRequest,
        _res: unknown,
        alias: NonNullable<GatewayRequest["$alias"]>,
      ): Promise<Principal | null> {
        const header = req.headers.authorization;
        let user: Principal | null = null;
        if (header !== undefined) {
          try {
            user = await rt.verifier.verify(parseBearer(header));
          } catch (err) {
            throw toMoleculerError(err);
          }
          // A person's first call creates their profile, which the call itself may read (GET /me, an order).
          await firstSight!.ensure(ctx, user);
        }
        const pathParams = (req.parsedUrl !== undefined && alias.match(req.parsedUrl)) || {};
        // moleculer-web merges body, query and path with Object.assign, where a "__proto__" key
        // would set the params' prototype instead of being a field: keep it a field, so the
        // validator refuses it like any field it does not accept.
        req.$params = ownMerge(req.body, req.query, pathParams);
        const claim = await claimKey(idempotency, req, user, alias, pathParams);
        ctx.meta.commandId = claim?.commandId ?? randomUUID();
        req.$keyClaim = claim;
        // Who is calling, for the source checks of provider webhooks.
        const meta = ctx.meta as AppContext["meta"] & { clientIp?: string; forwardedFor?: string };
        meta.clientIp = req.socket.remoteAddress;
        meta.forwardedFor = forwardedFor(req);
        return user;
      },
      sendError(this: Service, req: GatewayRequest, res: ServerResponse, err: unknown) {
        let answer = clientError(asMoleculerError(err), req.$alias?.action);
        // "Retry in a moment" (e.g. 503 BUSY from a full mailbox) says when.
        const retryAfter = (answer.data as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
        if (answer.code === 503 && typeof retryAfter === "number" && !res.headersSent)
          res.setHeader("Retry-After", String(retryAfter));
        // moleculer-web writes the status before it encodes the body: find out first whether
        // the body can be encoded at all, so a failure is a 500, not a broken 4xx.
        try {
          JSON.stringify((this as unknown as GatewayMethods).reformatError(answer, req));
        } catch (encodeErr) {
          answer = new Errors.MoleculerServerError(
            `error answer could not be encoded: ${(encodeErr as Error).message}`,
            500,
            "INTERNAL",
          );
        }
        const send = () => {
          try {
            gatewayMethods.sendError.call(this, req, res, answer);
          } catch (sendErr) {
            answerFailure(this, res, sendErr);
          }
        };
        const claim = req.$keyClaim;
        if (!claim || !refusedBeforeRunning(answer)) return send();
        // The key is free again before the client hears of the refusal, so its corrected retry finds it free.
        req.$keyClaim = null;
        return claim
          .release()
          .catch((releaseErr: Error) => this.logger.warn("idempotency key not released:", releaseErr.message))
          .then(send);
      },
      reformatError(this: Service, err: Errors.MoleculerError, req?: GatewayRequest) {
        if (err.code >= 500 && !(err instanceof Errors.MoleculerRetryableError)) {
          this.logger.error("request failed:", err);
          return INTERNAL_BODY;
        }
        const sent = req ? sentStrings(req.body, req.query, oddPathSegments(req.originalUrl ?? req.url ?? "")) : [];
        return {
          name: err.name,
          message: redactEchoes(err.message, sent),
          code: err.code,
          type: err.type,
          data: redactEchoes(err.data, sent),
        };
      },
      encodeResponse(this: Service, _req: IncomingMessage, res: ServerResponse, data: unknown) {
        try {
          return JSON.stringify(data);
        } catch (err) {
          this.logger.error("a reply could not be encoded:", (err as Error).message);
          if (!res.headersSent) res.statusCode = 500;
          return JSON.stringify(INTERNAL_BODY);
        }
      },
    },
    actions: {
      // moleculer-web's request handler must not be replayed by the broker's retry policy: the
      // call it makes is retried already, and a replay would look up the URL moleculer-web has
      // already rewritten (/api/orders -> /orders), match no route and answer 404 Not found
      // instead of the retryable error (503 BUSY, a timeout...) the client should see.
      rest: { retryPolicy: { enabled: false } },
      health: {
        handler(this: Service) {
          return { status: "ok", nodeID: this.broker.nodeID, uptimeSec: Math.round(process.uptime()) };
        },
      },
      ready: {
        async handler(this: Service, ctx: AppContext): Promise<ReadyReport | Pick<ReadyReport, "status">> {
          const report = await readiness(this, rt.config.ready.maxLag);
          // Only what stops us serving clients takes this node out of the load balancer.
          if (report.status === "not_ready") ctx.meta.$statusCode = 503;
          // Nodes, runners and problems describe the inside of the cluster: for admins only.
          const user = ctx.meta.user;
          return user && hasRole(user, "admin") ? report : { status: report.status };
        },
      },
    },
  };
}

/** The last answer to a request whose answering failed: a 500 if nothing was sent yet, else a cut connection. */
function answerFailure(svc: Service, res: ServerResponse, err: unknown): void {
  svc.logger.error("answering a request failed:", err);
  if (res.headersSent) res.destroy();
  else {
    res.writeHead(500, { "Content-Type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(INTERNAL_BODY));
  }
}

interface GatewayMethods {
  reformatError(err: Errors.MoleculerError, req?: GatewayRequest): unknown;
}

/**
 * Path segments that are not ids (as sent and decoded): a refusal may quote them (moleculer-web
 * does for one it cannot decode). Well-formed ids stay quotable: "order … does not exist" helps nobody.
 */
function oddPathSegments(url: string): string[] {
  return url
    .split("?")[0]
    .split("/")
    .filter((segment) => !ID_PATTERN.test(segment))
    .flatMap((segment) => {
      try {
        return [segment, decodeURIComponent(segment)];
      } catch {
        return [segment];
      }
    });
}

function forwardedFor(req: IncomingMessage): string | undefined {
  const forwarded = req.headers["x-forwarded-for"];
  return Array.isArray(forwarded) ? forwarded.join(",") : forwarded;
}

/** Errors from below the gateway's own code (the body parser, a bug) as the Moleculer errors sendError answers with. */
function asMoleculerError(err: unknown): Errors.MoleculerError {
  if (err instanceof BodyError) return new Errors.MoleculerClientError(err.message, err.status, err.type);
  // moleculer-web hands errors of route middlewares (our body parser's) on as plain MoleculerErrors.
  if (err instanceof Errors.MoleculerError && err.constructor === Errors.MoleculerError && err.code >= 400 && err.code < 500)
    return new Errors.MoleculerClientError(err.message, err.code, err.type, err.data);
  if (err instanceof Errors.MoleculerError) {
    // Some libraries' errors have no `type` (moleculer-web's 429): every answer carries one (see the API document).
    if (!err.type) err.type = UNTYPED[err.code] ?? `HTTP_${err.code}`;
    return err;
  }
  return new Errors.MoleculerServerError(err instanceof Error ? err.message : String(err), 500, "INTERNAL");
}

/** The stable `type` of an error that came without one, by its HTTP code. */
const UNTYPED: Record<number, string> = { 429: "RATE_LIMIT_EXCEEDED", 404: "NOT_FOUND", 400: "BAD_REQUEST" };

/** Body, query and path parameters in one object, in moleculer-web's order, every key an own field. */
function ownMerge(...sources: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const source of sources) {
    if (!source) continue;
    for (const key of Object.keys(source)) {
      Object.defineProperty(params, key, { value: source[key], enumerable: true, writable: true, configurable: true });
    }
  }
  return params;
}

/** Refusals that come before an action does anything: the key may be used again for the corrected request. */
function refusedBeforeRunning(err: Errors.MoleculerError): boolean {
  return err.code === 401 || err.code === 403 || err.type === "VALIDATION_ERROR";
}

/**
 * The request's Idempotency-Key record (none without a key): the command id recorded for this
 * caller, route and resource (see idempotency.ts), so a retry names the same resources.
 */
async function claimKey(
  keys: IdempotencyKeys,
  req: GatewayRequest,
  user: Principal | null,
  alias: NonNullable<GatewayRequest["$alias"]>,
  pathParams: Record<string, unknown>,
): Promise<KeyClaim | null> {
  const key = req.headers["idempotency-key"];
  if (key === undefined) return null;
  if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) {
    throw new Errors.MoleculerClientError(
      "Idempotency-Key must be 8-128 characters of letters, digits, '_', '.', ':' or '-'",
      400,
      "BAD_IDEMPOTENCY_KEY",
    );
  }
  return keys.claim({
    key,
    caller: user?.sub ?? "anonymous",
    method: alias.method,
    route: alias.fullPath,
    pathParams,
    body: req.body,
    query: req.query,
  });
}
