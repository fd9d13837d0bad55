/**
 * Local stand-in for FCM HTTP v1 and Google's OAuth2 token endpoint, so the real client runs
 * against it in tests and in the quick start. The token endpoint verifies the JWT assertion's
 * RS256 signature with the public key of a service account it was told to trust, and issues
 * short-lived bearer tokens; `messages:send` accepts only those. Devices can be unregistered
 * (404 UNREGISTERED); deliveries are recorded (`deliveries`, `GET /__sim/messages`); 5xx/429
 * with Retry-After are injected on demand.
 */
import { createPublicKey, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { decodeJwt, jwtVerify } from "jose";
import { closeServer, isRecord, listenOnLoopback } from "../http";
import { readBody, retryAfterHeader, sendJson } from "../simulator-io";
import { createServiceAccount, type ServiceAccount } from "./fcm.account";
import { FCM_SCOPE, JWT_BEARER_GRANT } from "./fcm.oauth";

export interface FcmDelivery {
  /** FCM's message name, `projects/{project}/messages/{id}`. */
  name: string;
  project: string;
  token: string;
  title?: string;
  body?: string;
  data: Record<string, string>;
  receivedAt: string;
}

/** Applies to the next `times` requests to `on` (default `send`); all of them when `times` is absent. */
export interface FcmFault {
  status: number;
  retryAfterSeconds?: number;
  times?: number;
  on?: "send" | "token";
}

export interface FcmSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Lifetime of the bearer tokens it issues; default 3600 s. */
  tokenTtlSeconds?: number;
  /** Only `register`ed device tokens are valid (others: 400 INVALID_ARGUMENT); default any token is. */
  strictTokens?: boolean;
}

export interface FcmSimulator {
  /** e.g. `http://127.0.0.1:40123`: the client's base URL. */
  readonly url: string;
  /** Where service accounts point their token_uri (`{url}/token`). */
  readonly tokenUri: string;
  /** Copies, oldest first. */
  readonly deliveries: readonly FcmDelivery[];
  /** Token requests answered with a token. */
  readonly tokensIssued: number;
  /** Token requests refused (bad signature, unknown account, wrong audience...). */
  readonly tokensRefused: number;
  /** messages:send requests received, faulted and refused ones included. */
  readonly sendRequests: number;
  /** Accepts assertions signed by this account's key from now on (its tokens for `project` only, when given). */
  trust(clientEmail: string, publicKeyPem: string, project?: string): void;
  /** A fresh service account (new RSA key) pointing at this simulator, already trusted. */
  createServiceAccount(projectId?: string): ServiceAccount;
  register(deviceToken: string): void;
  /** The device uninstalled the app: 404 UNREGISTERED from now on. */
  unregister(deviceToken: string): void;
  /** Every bearer token issued so far stops working (401). */
  revokeTokens(): void;
  setFault(fault: FcmFault | null): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

export async function startFcmSimulator(options: FcmSimulatorOptions = {}): Promise<FcmSimulator> {
  const simulator = new Simulator(options);
  await simulator.listen(options.port ?? 0);
  return simulator;
}

interface IssuedToken {
  project: string;
  expiresAt: number;
}

interface TrustedAccount {
  key: KeyObject;
  project?: string;
}

class Simulator implements FcmSimulator {
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch(() => sendJson(res, 500, googleError(500, "INTERNAL", "Simulator failure")));
  });
  private readonly trusted = new Map<string, TrustedAccount>();
  private readonly issued = new Map<string, IssuedToken>();
  private readonly registered = new Set<string>();
  private readonly unregistered = new Set<string>();
  private readonly sent: FcmDelivery[] = [];
  private fault: FcmFault | null = null;
  private faultsLeft = 0;
  private readonly ttlSeconds: number;
  url = "";
  tokensIssued = 0;
  tokensRefused = 0;
  sendRequests = 0;

  constructor(private readonly options: FcmSimulatorOptions) {
    this.ttlSeconds = options.tokenTtlSeconds ?? 3600;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1)
      throw new TypeError("startFcmSimulator: tokenTtlSeconds must be an integer > 0");
  }

  async listen(port: number): Promise<void> {
    this.url = await listenOnLoopback(this.server, port);
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  get deliveries(): readonly FcmDelivery[] {
    return this.sent.map((d) => ({ ...d, data: { ...d.data } }));
  }

  trust(clientEmail: string, publicKeyPem: string, project?: string): void {
    this.trusted.set(clientEmail, { key: createPublicKey(publicKeyPem), project });
  }

  createServiceAccount(projectId?: string): ServiceAccount {
    const { account, publicKeyPem } = createServiceAccount(this.tokenUri, projectId);
    this.trust(account.client_email, publicKeyPem, account.project_id);
    return account;
  }

  register(deviceToken: string): void {
    this.unregistered.delete(deviceToken);
    this.registered.add(deviceToken);
  }

  unregister(deviceToken: string): void {
    this.registered.delete(deviceToken);
    this.unregistered.add(deviceToken);
  }

  revokeTokens(): void {
    this.issued.clear();
  }

  setFault(fault: FcmFault | null): void {
    this.fault = fault;
    this.faultsLeft = fault?.times ?? Number.POSITIVE_INFINITY;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private takeFault(on: "send" | "token"): FcmFault | null {
    const current = this.fault;
    if (!current || (current.on ?? "send") !== on) return null;
    if (--this.faultsLeft <= 0) this.fault = null;
    return current;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://simulator").pathname;
    const body = (await readBody(req, MAX_BODY_BYTES)).toString("utf8");
    if (path === "/__sim/messages" && req.method === "GET") return sendJson(res, 200, { messages: this.deliveries });
    if (path === "/token" && req.method === "POST") return this.token(res, body);
    const send = SEND_PATH.exec(path);
    if (send && req.method === "POST") return this.send(req, res, decodeURIComponent(send[1]!), body);
    sendJson(res, 404, googleError(404, "NOT_FOUND", "Requested entity was not found."));
  }

  private async token(res: ServerResponse, body: string): Promise<void> {
    const fault = this.takeFault("token");
    if (fault) return sendFault(res, fault);
    const refuse = (description: string) => {
      this.tokensRefused += 1;
      sendJson(res, 400, { error: "invalid_grant", error_description: description });
    };
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== JWT_BEARER_GRANT) {
      this.tokensRefused += 1;
      return sendJson(res, 400, { error: "unsupported_grant_type", error_description: "Invalid grant_type" });
    }
    const assertion = form.get("assertion") ?? "";
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(assertion).iss;
    } catch {
      return refuse("Invalid JWT: the assertion is not a JWT");
    }
    const account = issuer === undefined ? undefined : this.trusted.get(issuer);
    if (!account) return refuse("Invalid JWT: unknown service account");
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(assertion, account.key, {
        algorithms: ["RS256"],
        issuer,
        audience: this.tokenUri,
        requiredClaims: ["iat", "exp"],
        maxTokenAge: "1h",
        clockTolerance: 5,
      }));
    } catch (err) {
      return refuse(`Invalid JWT Signature or claims: ${(err as Error).message}`);
    }
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
    if (!scopes.includes(FCM_SCOPE)) return refuse("Invalid JWT: the scope does not include firebase.messaging");
    const accessToken = `ya29.sim-${randomBytes(24).toString("base64url")}`;
    // Without a project (trusted by `trust`), the token works for any project.
    this.issued.set(accessToken, { project: account.project ?? "*", expiresAt: Date.now() + this.ttlSeconds * 1000 });
    this.tokensIssued += 1;
    sendJson(res, 200, { access_token: accessToken, expires_in: this.ttlSeconds, token_type: "Bearer" });
  }

  private send(req: IncomingMessage, res: ServerResponse, project: string, body: string): void {
    this.sendRequests += 1;
    const fault = this.takeFault("send");
    if (fault) return sendFault(res, fault);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const issued = bearer === undefined ? undefined : this.issued.get(bearer);
    if (!issued || issued.expiresAt <= Date.now()) {
      return sendJson(res, 401, googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."));
    }
    if (issued.project !== "*" && issued.project !== project) {
      return sendJson(res, 403, googleError(403, "PERMISSION_DENIED", "The caller does not have permission"));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 400, googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received."));
    }
    const message = isRecord(parsed) && isRecord(parsed.message) ? parsed.message : undefined;
    if (!message) return sendJson(res, 400, invalidArgument("message", "The message is missing."));
    const token = message.token;
    if (typeof token !== "string" || token === "")
      return sendJson(res, 400, invalidArgument("message.token", "The registration token is missing."));
    const notification = isRecord(message.notification) ? message.notification : {};
    const data = isRecord(message.data) ? message.data : {};
    if (Object.values(data).some((v) => typeof v !== "string")) {
      return sendJson(res, 400, invalidArgument("message.data", "Invalid value at 'message.data': values must be strings"));
    }
    if (this.unregistered.has(token)) {
      return sendJson(res, 404, {
        error: {
          code: 404,
          message: "Requested entity was not found.",
          status: "NOT_FOUND",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }],
        },
      });
    }
    if (this.options.strictTokens && !this.registered.has(token)) {
      return sendJson(res, 400, invalidArgument("message.token", "The registration token is not a valid FCM registration token"));
    }
    const name = `projects/${project}/messages/${Date.now()}${randomBytes(3).readUIntBE(0, 3)}`;
    this.sent.push({
      name,
      project,
      token,
      ...(typeof notification.title === "string" ? { title: notification.title } : {}),
      ...(typeof notification.body === "string" ? { body: notification.body } : {}),
      data: data as Record<string, string>,
      receivedAt: new Date().toISOString(),
    });
    sendJson(res, 200, { name });
  }
}

function googleError(code: number, status: string, message: string): unknown {
  return { error: { code, message, status } };
}

function invalidArgument(field: string, description: string): unknown {
  return {
    error: {
      code: 400,
      message: description,
      status: "INVALID_ARGUMENT",
      details: [
        { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "INVALID_ARGUMENT" },
        { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] },
      ],
    },
  };
}

function sendFault(res: ServerResponse, fault: FcmFault): void {
  const status = fault.status === 429 ? "RESOURCE_EXHAUSTED" : fault.status >= 500 ? "UNAVAILABLE" : "FAILED_PRECONDITION";
  sendJson(res, fault.status, googleError(fault.status, status, "Simulated failure"), retryAfterHeader(fault.retryAfterSeconds));
}
