import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** Public half only, ready to publish in a JWKS. */
  publicJwk: JWK;
}

const ALG = "RS256";

// Duck-typed: under jest, errors from node:fs come from another realm and fail instanceof.
function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === code;
}

function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: jwk.kid, alg: ALG, use: "sig" };
}

type RsaPrivateJwk = JWK & { kty: "RSA"; kid: string; n: string; e: string; d: string };

function isRsaPrivateJwk(value: unknown): value is RsaPrivateJwk {
  if (typeof value !== "object" || value === null) return false;
  const field = (name: string): boolean => typeof Reflect.get(value, name) === "string";
  return Reflect.get(value, "kty") === "RSA" && ["kid", "n", "e", "d"].every(field);
}

async function fromJwk(jwk: unknown, file: string): Promise<SigningKey> {
  if (!isRsaPrivateJwk(jwk)) {
    throw new Error(`${file} does not hold an RSA private JWK with a kid; delete it to create a new key`);
  }
  const privateKey = await importJWK(jwk, ALG);
  if (privateKey instanceof Uint8Array) throw new Error(`${file} holds a symmetric key`);
  return { kid: jwk.kid, privateKey, publicJwk: publicPart(jwk) };
}

async function createKeyFile(file: string): Promise<void> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = ALG;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Written aside then linked: link() fails if the file exists, so a server and the token
  // CLI starting together end up sharing one complete key file, never a half-written one.
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(jwk, null, 2) + "\n", { mode: 0o600 });
  try {
    await link(tmp, file);
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Loads the signing key from `file` (a private JWK, mode 0600), creating it on first use. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    await createKeyFile(file);
    text = await readFile(file, "utf8");
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; delete it to create a new key`);
  }
  return fromJwk(jwk, file);
}
