/**
 * A Web Push service on this machine, for tests: it hands out subscriptions (a P-256 key pair
 * and a 16-byte auth secret, as a browser makes them, with an endpoint on this server), and
 * for each push it checks the VAPID Authorization header (RFC 8292: the JWT verified with the
 * key in `k`, audience this origin) and decrypts the aes128gcm payload (RFC 8291) with the
 * subscription's private key, keeping the plaintext. A subscription can be marked gone (410)
 * and pushes can be answered 429 with Retry-After.
 */
import { createECDH, createPublicKey, randomBytes, randomUUID, type ECDH } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { decrypt } from "http_ece";
import { jwtVerify } from "jose";
import { closeServer, listenOnLoopback } from "../../lib/ports/http";
import type { WebPushSubscription } from "../../lib/ports/push/push.port";
import { readBody } from "../../lib/ports/simulator-io";

export interface TestSubscription {
  id: string;
  /** What the browser would hand the application server. */
  subscription: WebPushSubscription;
}

export interface ReceivedPush {
  subscriptionId: string;
  /** The decrypted payload. */
  plaintext: string;
  /** The VAPID public key (`k`) the sender signed with. */
  vapidKey: string;
  /** The VAPID JWT's `sub` (mailto: or https:). */
  vapidSubject: string;
  ttl: string | undefined;
  topic: string | undefined;
  urgency: string | undefined;
}

export interface RejectedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

export interface PushEndpointFault {
  status: 429 | 500 | 503 | 413 | 400;
  retryAfterSeconds?: number;
  times?: number;
}

export interface PushEndpoint {
  readonly url: string;
  readonly received: readonly ReceivedPush[];
  readonly rejected: readonly RejectedPush[];
  /** A new subscription, as a browser subscribing with `applicationServerKey` would get it. */
  subscribe(): TestSubscription;
  /** The user revoked the permission or the browser dropped it: 410 Gone from now on. */
  markGone(subscriptionId: string): void;
  setFault(fault: PushEndpointFault | null): void;
  close(): Promise<void>;
}

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
  gone: boolean;
}

/** RFC 8030 §7.2: push services must take at least 4096 bytes of payload; ours takes no more (413). */
const MAX_PAYLOAD_BYTES = 4096;

export async function startPushEndpoint(options: { port?: number } = {}): Promise<PushEndpoint> {
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  let fault: PushEndpointFault | null = null;
  let faultsLeft = 0;
  let messages = 0;
  let url = "";

  const refuse = (res: ServerResponse, subscriptionId: string, status: number, reason: string) => {
    rejected.push({ subscriptionId, status, reason });
    res.writeHead(status, { "content-type": "text/plain" }).end(reason);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, 64 * 1024);
    const match = /^\/push\/([\w-]+)$/.exec(new URL(req.url ?? "/", url).pathname);
    const id = match?.[1] ?? "";
    const subscriber = subscribers.get(id);
    if (req.method !== "POST" || !subscriber) return refuse(res, id, 404, "no such subscription");
    if (subscriber.gone) return refuse(res, id, 410, "subscription expired or unsubscribed");
    if (fault) {
      const current = fault;
      if (--faultsLeft <= 0) fault = null;
      if (current.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(current.retryAfterSeconds));
      return refuse(res, id, current.status, "simulated failure");
    }

    if (body.length > MAX_PAYLOAD_BYTES) return refuse(res, id, 413, "payload too large");

    // VAPID (RFC 8292 §3): Authorization: vapid t=<JWT>, k=<public key>.
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? "");
    if (!auth) return refuse(res, id, 401, "no VAPID authorization");
    const [, jwt, k] = auth as unknown as [string, string, string];
    let subject: string;
    try {
      const { payload } = await jwtVerify(jwt, p256PublicKey(k), { algorithms: ["ES256"], audience: new URL(url).origin });
      if (typeof payload.exp !== "number" || payload.exp > Date.now() / 1000 + 24 * 3600)
        throw new Error("exp missing or more than 24 h ahead");
      if (typeof payload.sub !== "string" || !/^(mailto:|https:)/.test(payload.sub))
        throw new Error("sub is not mailto: or https:");
      subject = payload.sub;
    } catch (err) {
      return refuse(res, id, 403, `VAPID JWT refused: ${(err as Error).message}`);
    }
    if (req.headers["content-encoding"] !== "aes128gcm") return refuse(res, id, 400, "Content-Encoding is not aes128gcm");
    if (req.headers.ttl === undefined) return refuse(res, id, 400, "no TTL header");

    let plaintext: string;
    try {
      plaintext = decrypt(body, { version: "aes128gcm", privateKey: subscriber.ecdh, authSecret: subscriber.auth }).toString(
        "utf8",
      );
    } catch (err) {
      return refuse(res, id, 400, `cannot decrypt: ${(err as Error).message}`);
    }
    received.push({
      subscriptionId: id,
      plaintext,
      vapidKey: k,
      vapidSubject: subject,
      ttl: header(req, "ttl"),
      topic: header(req, "topic"),
      urgency: header(req, "urgency"),
    });
    messages += 1;
    res.writeHead(201, { location: `${url}/message/${messages}` }).end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => refuse(res, "", 500, err.message));
  });
  url = await listenOnLoopback(server, options.port ?? 0);

  return {
    url,
    get received() {
      return [...received];
    },
    get rejected() {
      return [...rejected];
    },
    subscribe() {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomUUID();
      subscribers.set(id, { ecdh, auth, gone: false });
      return {
        id,
        subscription: {
          endpoint: `${url}/push/${id}`,
          keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
        },
      };
    },
    markGone(subscriptionId) {
      const subscriber = subscribers.get(subscriptionId);
      if (!subscriber) throw new Error(`no subscription ${subscriptionId}`);
      subscriber.gone = true;
    },
    setFault(next) {
      fault = next;
      faultsLeft = next?.times ?? Number.POSITIVE_INFINITY;
    },
    close: () => closeServer(server),
  };
}

/** The uncompressed P-256 point of VAPID's `k` as a key jose verifies with. */
function p256PublicKey(k: string) {
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 0x04) throw new Error("k is not an uncompressed P-256 point");
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
    format: "jwk",
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
