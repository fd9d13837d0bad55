/**
 * Shared plumbing for the ports to external HTTP services: the client side (JSON GET with
 * per-attempt timeout, whole-call deadline and retries), typed errors, JSON shape readers,
 * and the server side their local simulators are built on.
 */
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). Node's
 * default, 511, is less than an on-sale opening sends at once: the kernel drops the rest and
 * clients wait for their SYN retries (1 s, 3 s, 7 s...).
 */
export const LISTEN_BACKLOG = 8192;

/**
 * Keeps idle keep-alive connections open longer than clients and load balancers do (Node
 * closes them after 5 s). Whoever closes an idle connection first must be the client: when
 * the server does, a client may send its next request on a socket that is being closed and
 * get "other side closed" with no answer (seen in the flash sale, with busy event loops).
 */
export function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}

/** An error a port surfaces to its caller: `code` is stable, the message is for logs. */
export class PortError<Code extends string = string> extends Error {
  readonly code: Code;
  /** Whether asking again later may succeed (outage, rate limit) rather than repeat the failure. */
  readonly retryable: boolean;
  /** HTTP status of the answer that caused the error, when there was one. */
  readonly status?: number;

  constructor(code: Code, message: string, retryable: boolean, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Replaces every secret, raw or URL-encoded, so that messages can be logged as they are. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join("***");
  }
  return out;
}

/** `Retry-After` as seconds from now: either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

// ---------------------------------------------------------------------------------------------
// Client side

/** Checks a client's whole-number setting at construction; the message names the client and the setting. */
export function integerSetting(owner: string, name: string, value: number, min: 0 | 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`${owner}: ${name} must be an integer ${min === 0 ? ">= 0" : "> 0"}`);
  }
  return value;
}

export interface JsonRequest {
  url: URL;
  /** Default GET. Retrying anything else is only safe when the service deduplicates it (an idempotency key). */
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Sent as is; set `content-type` in `headers`. */
  body?: string;
  /** Each attempt, body included, is abandoned after this long. */
  attemptTimeoutMs: number;
  /** Extra attempts after a 5xx answer, a timeout or a network error; never after 4xx. */
  retries: number;
  /** Pause before the first retry; doubled for each further one. */
  backoffMs: number;
  /** Caps the whole call, retries and pauses included. */
  deadline?: AbortSignal;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The parsed body; `undefined` when the body is empty or not JSON. */
  json: unknown;
}

export type TransportFailure = "timeout" | "network";

/** No HTTP answer at all (after the retries): the service is down, unreachable or too slow. */
export class HttpTransportError extends Error {
  readonly reason: TransportFailure;

  constructor(reason: TransportFailure, message: string, cause: unknown) {
    super(message, { cause });
    this.name = "HttpTransportError";
    this.reason = reason;
  }
}

/**
 * Sends a request for a JSON answer. Any HTTP answer is returned (the last one when 5xx persists), so each
 * client maps statuses to its own errors; only the absence of an answer throws.
 */
export async function fetchJson(request: JsonRequest): Promise<JsonResponse> {
  for (let attempt = 0; ; attempt++) {
    const lastAttempt = attempt >= request.retries;
    try {
      const response = await attemptOnce(request);
      if (response.status < 500 || lastAttempt) return response;
    } catch (error) {
      if (lastAttempt || request.deadline?.aborted) throw error;
    }
    await pause(request.backoffMs * 2 ** attempt, request.deadline);
  }
}

/**
 * Connections kept alive per origin and shared by every client of the process: in an on-sale
 * the payment provider is asked several times per order, and a connection (with its TLS
 * handshake) per call cost more than the call. Not capped: a cap makes a burst queue for a
 * connection inside the attempt's timeout (1,000 payments at once timed out and waited for the
 * reconciliation sweep); up to 256 idle ones are kept, each dropped before the server's
 * keep-alive hint.
 */
const AGENT_OPTIONS = { keepAlive: true, maxFreeSockets: 256, scheduling: "lifo" as const };
const agents = { "http:": new HttpAgent(AGENT_OPTIONS), "https:": new HttpsAgent(AGENT_OPTIONS) };

/**
 * A signal that aborts after `ms`, or with `outer`. A timer of our own rather than
 * AbortSignal.timeout, which builds its DOMException up front on every call (1% of an on-sale's
 * event loop, for calls that nearly never time out); `done()` clears it.
 */
function timeLimit(ms: number, outer?: AbortSignal) {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), ms);
  return {
    signal: outer ? AbortSignal.any([timeout.signal, outer]) : timeout.signal,
    timedOut: () => timeout.signal.aborted,
    done: () => clearTimeout(timer),
  };
}

async function attemptOnce(request: JsonRequest): Promise<JsonResponse> {
  const limit = timeLimit(request.attemptTimeoutMs, request.deadline);
  try {
    return await exchange(request, limit.signal);
  } catch (error) {
    if (request.deadline?.aborted) throw new HttpTransportError("timeout", "call deadline exceeded", error);
    if (limit.timedOut()) throw new HttpTransportError("timeout", `no answer within ${request.attemptTimeoutMs} ms`, error);
    throw new HttpTransportError("network", `network error (${networkErrorCode(error)})`, error);
  } finally {
    limit.done();
  }
}

/**
 * One POST of a JSON body over the shared agents, for senders that judge the status themselves
 * (the simulator's webhooks): the status, or a thrown error when nothing answered within
 * `timeoutMs` (or `stop` aborted it).
 */
export async function postJson(url: string, body: string, timeoutMs: number, stop?: AbortSignal): Promise<number> {
  const limit = timeLimit(timeoutMs, stop);
  try {
    const answer = await exchange(
      { url: new URL(url), method: "POST", headers: { "content-type": "application/json" }, body },
      limit.signal,
    );
    return answer.status;
  } finally {
    limit.done();
  }
}

/** One request over the shared agents; the body is read within the same signal. */
function exchange(request: Pick<JsonRequest, "url" | "method" | "headers" | "body">, signal: AbortSignal): Promise<JsonResponse> {
  const { url } = request;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new TypeError(`unsupported protocol ${url.protocol}`));
  const headers: Record<string, string> = { accept: "application/json", ...request.headers };
  if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
  return new Promise((resolve, reject) => {
    const req = send(url, { method: request.method ?? "GET", headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) answer.append(name, v);
        }
        resolve({ status: res.statusCode ?? 0, headers: answer, json: parseJson(Buffer.concat(chunks).toString("utf8")) });
      });
    });
    req.on("error", reject);
    req.end(request.body);
  });
}

async function pause(ms: number, deadline: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, deadline ? { signal: deadline } : undefined);
  } catch (error) {
    throw new HttpTransportError("timeout", "call deadline exceeded", error);
  }
}

/** The body as JSON; undefined when empty or not JSON. */
export function parseJson(body: string): unknown {
  if (body.trim() === "") return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The socket error's code (ECONNREFUSED, ENOTFOUND...) is what an operator needs: node:http puts
 * it on the error, fetch (the issuer's discovery) hides it in `cause`. Duck-typed: errors from another realm (a test sandbox) fail `instanceof Error`.
 */
export function networkErrorCode(error: unknown): string {
  if (!isRecord(error)) return String(error);
  if (typeof error.code === "string" && error.code !== "ABORT_ERR") return error.code;
  if (isRecord(error.cause) && typeof error.cause.code === "string") return error.cause.code;
  return typeof error.message === "string" ? error.message : "unknown";
}

// ---------------------------------------------------------------------------------------------
// JSON shape readers: unofficial or loosely documented APIs change without notice, so every
// field a client uses is checked and a mismatch names the path that broke.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface JsonReader {
  record(value: unknown, path: string): Record<string, unknown>;
  array(value: unknown, path: string): unknown[];
  string(value: unknown, path: string): string;
  /** `undefined` and `null` both mean absent; anything else must be a string. */
  optionalString(value: unknown, path: string): string | undefined;
  optionalNumber(value: unknown, path: string): number | undefined;
  /** Numeric ids arrive as numbers or digit strings depending on the endpoint. */
  id(value: unknown, path: string): string;
}

export function jsonReader(fail: (problem: string) => Error): JsonReader {
  const reader: JsonReader = {
    record(value, path) {
      if (!isRecord(value)) throw fail(`${path} is not an object`);
      return value;
    },
    array(value, path) {
      if (!Array.isArray(value)) throw fail(`${path} is not an array`);
      return value;
    },
    string(value, path) {
      if (typeof value !== "string") throw fail(`${path} is not a string`);
      return value;
    },
    optionalString(value, path) {
      return value === undefined || value === null ? undefined : reader.string(value, path);
    },
    optionalNumber(value, path) {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail(`${path} is not a number`);
      return value;
    },
    id(value, path) {
      if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
      if (typeof value === "string" && /^\d+$/.test(value)) return value;
      throw fail(`${path} is not a numeric id`);
    },
  };
  return reader;
}

// ---------------------------------------------------------------------------------------------
// Server side, for simulators

/** Injected misbehaviour; applies to the next `times` requests (all of them when omitted). */
export type SimulatorFault =
  | { status: number; retryAfterSeconds?: number; times?: number }
  | { delayMs: number; times?: number }
  | { malformed: true; times?: number };

export interface SimulatedRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface SimulatedResponse {
  status: number;
  body: unknown;
}

export interface JsonSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Answers a GET; only called when no status fault intervenes. */
  route(request: SimulatedRequest): SimulatedResponse;
  /** Body of an error answer in the simulated service's own error format. */
  errorBody(status: number): unknown;
}

export interface JsonSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Requests received so far, faulted ones included. */
  readonly requests: number;
  /** `null` clears the current fault. */
  setFault(fault: SimulatorFault | null): void;
  close(): Promise<void>;
}

/** A JSON-over-HTTP server on 127.0.0.1 with request counting and fault injection. */
export async function startJsonSimulator(options: JsonSimulatorOptions): Promise<JsonSimulator> {
  let requests = 0;
  let fault: SimulatorFault | null = null;
  let faultsLeft = 0;
  const closing = new AbortController();

  const takeFault = (): SimulatorFault | null => {
    const current = fault;
    if (current && --faultsLeft <= 0) fault = null;
    return current;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests += 1;
    const active = takeFault();
    if (active && "status" in active) {
      const headers: Record<string, string> =
        active.retryAfterSeconds === undefined ? {} : { "retry-after": String(active.retryAfterSeconds) };
      return send(res, active.status, JSON.stringify(options.errorBody(active.status)), headers);
    }
    if (active && "delayMs" in active) {
      try {
        await sleep(active.delayMs, undefined, { signal: closing.signal });
      } catch {
        return;
      }
    }
    const url = new URL(req.url ?? "/", "http://simulator");
    const { status, body } =
      req.method === "GET"
        ? options.route({ path: url.pathname, query: url.searchParams, headers: req.headers })
        : { status: 405, body: options.errorBody(405) };
    const text = JSON.stringify(body);
    // A body cut in half is what a dropped connection or a broken proxy hands a client.
    send(res, status, active && "malformed" in active ? text.slice(0, text.length >> 1) : text, {});
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => send(res, 500, JSON.stringify(options.errorBody(500)), {}));
  });

  const url = await listenOnLoopback(server, options.port ?? 0);

  return {
    url,
    get requests() {
      return requests;
    },
    setFault(next) {
      fault = next;
      faultsLeft = next?.times ?? Number.POSITIVE_INFINITY;
    },
    close() {
      closing.abort();
      return closeServer(server);
    },
  };
}

/** Listens on 127.0.0.1 (port 0: a free one) and resolves to the base URL, e.g. `http://127.0.0.1:40123`. */
export async function listenOnLoopback(server: Server, port: number): Promise<string> {
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("simulator is not listening on a TCP port");
  return `http://127.0.0.1:${address.port}`;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets from fetch would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(body);
}
