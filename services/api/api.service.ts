import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Errors, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import type { Principal } from "../../lib/auth/principal";
import { parseBearer } from "../../lib/auth/verifier";
import type { AppContext } from "../../lib/app/context";
import { HttpDrain } from "../../lib/app/http-drain";
import { toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import { keepIdleConnections, LISTEN_BACKLOG } from "../../lib/ports/http";
import { describeParked } from "../../lib/eventlog/parked-keys";
import type { NodeRunners } from "../runners/runners.service";

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

  "POST orders": "orders.create",
  "GET orders/:id": "orders.get",
  "POST orders/:id/cancel": "orders.cancel",
  "GET me/orders": "orders.mine",
  "POST orders/:id/refunds": "orders.refund",
  "GET orders/:id/tickets": "tickets.ofOrder",
  "GET me/tickets": "tickets.mine",
  "POST checkin": "tickets.checkin",

  "POST payments/yookassa/webhook": "orders.yookassaWebhook",
};

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

interface ReadyReport {
  /** degraded: clients are served, but a partner stream is stuck (see `bridge`) or a key is parked. */
  status: "ready" | "degraded" | "not_ready";
  transporter: { connected: boolean };
  nodes: NodeRunners[];
  problems: string[];
  /** Trouble of the Kafka bridge (a partner's broker refusing us, an order waiting for its event). */
  bridge: string[];
  /** Keys a partitioned subscription set aside (see `parked`): the rest flows, so only degraded. */
  parked: string[];
}

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
  if (!unavailable) return err;
  return new Errors.MoleculerRetryableError(
    "part of the service is not answering right now: retry in a moment",
    503,
    "SERVICE_UNAVAILABLE",
    { retryAfterSec: 1 },
  );
}

/** moleculer-web's own methods, for the ones this service wraps. */
const gatewayMethods = (ApiGateway as unknown as { methods: Record<string, (...args: unknown[]) => unknown> }).methods;

export default function apiService(rt: Runtime): ServiceSchema {
  const { http } = rt.config;
  const requests = new HttpDrain();
  return {
    name: "api",
    mixins: [ApiGateway as unknown as Partial<ServiceSchema>],
    created(this: Service) {
      // moleculer-web listens with Node's defaults: see LISTEN_BACKLOG and keepIdleConnections.
      const server = (this as Service & { server: Server }).server;
      keepIdleConnections(server);
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
    settings: {
      port: http.port,
      ip: http.host,
      cors: http.corsOrigins.length
        ? {
            origin: http.corsOrigins,
            methods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
            maxAge: 600,
          }
        : undefined,
      // A coarse per-address guard (0 turns it off); fairness during on-sales belongs to the
      // inventory's queue.
      ...(http.rateLimitPerMinute > 0
        ? {
            rateLimit: {
              window: 60_000,
              limit: http.rateLimitPerMinute,
              headers: true,
              key: (req: IncomingMessage) => req.socket.remoteAddress ?? "?",
            },
          }
        : {}),
      routes: [
        {
          path: "/api",
          authentication: true,
          autoAliases: false,
          mappingPolicy: "restrict",
          bodyParsers: { json: { limit: "256kb", strict: true }, urlencoded: false },
          aliases: ROUTES,
        },
      ],
    } as ServiceSettingSchema,
    methods: {
      httpHandler(this: Service, req: IncomingMessage, res: ServerResponse, next?: unknown) {
        if (!requests.admit(req, res)) return;
        return gatewayMethods.httpHandler.call(this, req, res, next);
      },
      /**
       * A missing token is an anonymous caller; a present but invalid one is refused, never
       * ignored. Runs before every call, so it also names the request's command id.
       */
      async authenticate(ctx: AppContext, _route: unknown, req: IncomingMessage): Promise<Principal | null> {
        const header = req.headers.authorization;
        let user: Principal | null = null;
        if (header !== undefined) {
          try {
            user = await rt.verifier.verify(parseBearer(header));
          } catch (err) {
            throw toMoleculerError(err);
          }
        }
        ctx.meta.commandId = commandIdOf(req, user);
        // Who is calling, for the source checks of provider webhooks.
        const meta = ctx.meta as AppContext["meta"] & { clientIp?: string; forwardedFor?: string };
        meta.clientIp = req.socket.remoteAddress;
        const forwarded = req.headers["x-forwarded-for"];
        meta.forwardedFor = Array.isArray(forwarded) ? forwarded.join(",") : forwarded;
        return user;
      },
      sendError(
        this: Service,
        req: IncomingMessage & { $alias?: { action?: string } },
        res: ServerResponse,
        err: Errors.MoleculerError,
      ) {
        const answer = err instanceof Error ? clientError(err, req.$alias?.action) : err;
        // "Retry in a moment" (e.g. 503 BUSY from a full mailbox) says when.
        const retryAfter = (answer as { data?: { retryAfterSec?: unknown } }).data?.retryAfterSec;
        if (answer.code === 503 && typeof retryAfter === "number" && !res.headersSent)
          res.setHeader("Retry-After", String(retryAfter));
        return gatewayMethods.sendError.call(this, req, res, answer);
      },
      reformatError(this: Service, err: Errors.MoleculerError) {
        if (err.code >= 500 && !(err instanceof Errors.MoleculerRetryableError)) {
          this.logger.error("request failed:", err);
          return { name: "InternalError", message: "internal error; the incident was logged", code: err.code, type: "INTERNAL" };
        }
        return { name: err.name, message: err.message, code: err.code, type: err.type, data: err.data };
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
        async handler(this: Service, ctx: AppContext): Promise<ReadyReport> {
          const report = await readiness(this);
          // Only what stops us serving clients takes this node out of the load balancer.
          if (report.status === "not_ready") ctx.meta.$statusCode = 503;
          return report;
        },
      },
    },
  };
}

/**
 * A client's Idempotency-Key, scoped to the caller so one client's key can never replay
 * another's command; without one, every request is a new command.
 */
function commandIdOf(req: IncomingMessage, user: Principal | null): string {
  const key = req.headers["idempotency-key"];
  if (key === undefined) return randomUUID();
  if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) {
    throw new Errors.MoleculerClientError(
      "Idempotency-Key must be 8-128 characters of letters, digits, '_', '.', ':' or '-'",
      400,
      "BAD_IDEMPOTENCY_KEY",
    );
  }
  return `${user?.sub ?? "anonymous"}:${key}`;
}

/** Ready = the transporter is up, every node reaches its store, and no runner is halted. */
async function readiness(svc: Service): Promise<ReadyReport> {
  const broker = svc.broker;
  const transit = (broker as unknown as { transit?: { connected: boolean } }).transit;
  const connected = transit ? transit.connected : true;
  const endpoints = broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as Array<{
    name: string;
    nodeID: string;
  }>;
  const nodeIDs = [...new Set(endpoints.filter((s) => s.name === "runners").map((s) => s.nodeID))];
  const problems: string[] = [];
  if (!connected) problems.push("transporter is disconnected");
  const nodes = await Promise.all(
    nodeIDs.map((nodeID) =>
      broker.call<NodeRunners, Record<string, never>>("runners.status", {}, { nodeID, timeout: 3000 }).catch((err: Error) => {
        problems.push(`node ${nodeID} did not answer: ${err.message}`);
        return null;
      }),
    ),
  );
  const answered = nodes.filter((n): n is NodeRunners => n !== null);
  const bridge: string[] = [];
  // Every node hosting a subscription reads the same parked keys from the store: list them once.
  const parked = new Set<string>();
  for (const node of answered) {
    if (!node.store.ok) problems.push(`node ${node.nodeID}: ${node.store.kind} store unreachable: ${node.store.error}`);
    for (const r of node.runners) {
      const list = r.kind === "bridge" ? bridge : problems;
      if (r.state === "halted") list.push(`runner ${r.name} on ${node.nodeID} halted at ${r.fault?.pos}: ${r.fault?.message}`);
      if (r.lastError) list.push(`runner ${r.name} on ${node.nodeID}: ${r.lastError}`);
      for (const line of r.parked ? describeParked(r.name, r.parked) : []) parked.add(line);
    }
  }
  const status = problems.length ? "not_ready" : bridge.length || parked.size ? "degraded" : "ready";
  return { status, transporter: { connected }, nodes: answered, problems, bridge, parked: [...parked] };
}
