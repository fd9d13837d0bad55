/**
 * A Keycloak-like OIDC provider for tests: real keys, real HTTP on 127.0.0.1, and a mint()
 * that can forge every kind of bad token the verifier must refuse.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { accessTokenClaims } from "../../lib/auth/claims";
import type { Role } from "../../lib/auth/principal";

export const TEST_AUDIENCE = "ticketing-api";
export const TEST_CLIENT_ID = "ticketing-web";

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicKeyPem: string;
}

export interface MintOptions {
  roles?: Role[];
  /** Merged over the defaults; a claim set to `undefined` is left out. */
  claims?: Record<string, unknown>;
  /** Merged over `{ alg, typ: "JWT", kid }`. */
  header?: Record<string, unknown>;
  /** Default RS256; "none" yields an unsigned token. */
  alg?: string;
  /** Signs with this instead of the current key (another key, an HMAC secret...). */
  key?: CryptoKey | Uint8Array;
}

export interface TestSigner {
  issuer: string;
  audience: string;
  /** Current signing key. */
  readonly current: KeyPair;
  /** Published as `use: "enc"`, as Keycloak does; signing with it must not verify. */
  readonly encryptionKey: KeyPair;
  jwks(): JSONWebKeySet;
  mint(options?: MintOptions): Promise<string>;
  /** Replaces the signing key; the old one disappears from the JWKS. */
  rotate(): Promise<void>;
}

async function newKeyPair(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid }, publicKeyPem: await exportSPKI(publicKey) };
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (value: Record<string, unknown>): string => base64url.encode(JSON.stringify(value));
  return `${part(header)}.${part(payload)}.`;
}

export async function createTestSigner(issuer: string, audience = TEST_AUDIENCE): Promise<TestSigner> {
  let current = await newKeyPair();
  const encryptionKey = await newKeyPair();
  return {
    issuer,
    audience,
    get current() {
      return current;
    },
    encryptionKey,
    jwks: () => ({
      keys: [
        { ...current.publicJwk, alg: "RS256", use: "sig" },
        { ...encryptionKey.publicJwk, alg: "RSA-OAEP", use: "enc" },
      ],
    }),
    async mint(options = {}) {
      const alg = options.alg ?? "RS256";
      const base = accessTokenClaims({
        issuer,
        audience,
        clientId: TEST_CLIENT_ID,
        sub: "user-1",
        roles: options.roles ?? ["customer"],
        ttlSeconds: 300,
      });
      const payload = { ...base, ...options.claims };
      const header = { alg, typ: "JWT", kid: current.kid, ...options.header };
      if (alg === "none") return unsigned(header, payload);
      return new SignJWT(payload).setProtectedHeader({ ...header, alg }).sign(options.key ?? current.privateKey);
    },
    async rotate() {
      current = await newKeyPair();
    },
  };
}

export interface Failure {
  /** Answer with this HTTP status instead of the document. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface TestOidcIssuer extends TestSigner {
  jwksUri: string;
  /** Requests received, including those answered with a failure. */
  readonly fetches: { discovery: number; jwks: number };
  /** Applies to discovery and JWKS until cleared with `undefined`. */
  fail(failure: Failure | undefined): void;
  /** Stops listening (connections are refused) until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

const REALM = "test";

/** Starts the provider on a random port; realm paths mirror Keycloak's. */
export async function startOidcIssuer(): Promise<TestOidcIssuer> {
  const fetches = { discovery: 0, jwks: 0 };
  let failure: Failure | undefined;
  let signer: TestSigner | undefined;

  const send = (res: ServerResponse, body: unknown): void => {
    const respond = (): void => {
      if (failure?.status) {
        res.writeHead(failure.status).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!failure?.delayMs) return respond();
    const timer = setTimeout(respond, failure.delayMs);
    res.on("close", () => clearTimeout(timer));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!signer) return void res.writeHead(503).end();
    const realmPath = `/realms/${REALM}`;
    if (req.url === `${realmPath}/.well-known/openid-configuration`) {
      fetches.discovery++;
      return send(res, {
        issuer: signer.issuer,
        jwks_uri: `${signer.issuer}/protocol/openid-connect/certs`,
        token_endpoint: `${signer.issuer}/protocol/openid-connect/token`,
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (req.url === `${realmPath}/protocol/openid-connect/certs`) {
      fetches.jwks++;
      return send(res, signer.jwks());
    }
    res.writeHead(404).end();
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive sockets from fetch() would otherwise keep the port answering.
      server.closeAllConnections();
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}/realms/${REALM}`;
  signer = await createTestSigner(issuer);

  return Object.assign(signer, {
    jwksUri: `${issuer}/protocol/openid-connect/certs`,
    fetches,
    fail: (next: Failure | undefined) => {
      failure = next;
    },
    down: stop,
    up: () => listen(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  });
}
