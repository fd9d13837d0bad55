/**
 * A Google service account as FCM HTTP v1 needs it: which project to send for, and the key
 * that signs the JWT exchanged for an OAuth2 access token.
 */
import { createPrivateKey, generateKeyPair, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { isRecord } from "../http";

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** The fields of the key file (JSON) that are used; the file has more. */
export interface ServiceAccount {
  project_id: string;
  client_email: string;
  /** PKCS#8 PEM. */
  private_key: string;
  private_key_id?: string;
  token_uri: string;
}

/** A service account with its key parsed once. */
export interface LoadedServiceAccount {
  projectId: string;
  clientEmail: string;
  keyId?: string;
  tokenUri: string;
  privateKey: KeyObject;
}

export class ServiceAccountError extends Error {
  override readonly name = "ServiceAccountError";
}

/** Checks and parses a key file's content; the error names the field, never the key. */
export function parseServiceAccount(json: unknown): LoadedServiceAccount {
  if (!isRecord(json)) throw new ServiceAccountError("the service account is not a JSON object");
  const field = (name: keyof ServiceAccount, optional = false): string | undefined => {
    const value = json[name];
    if (value === undefined && optional) return undefined;
    if (typeof value !== "string" || value.trim() === "") throw new ServiceAccountError(`the service account has no ${name}`);
    return value;
  };
  const tokenUri = field("token_uri", true) ?? GOOGLE_TOKEN_URI;
  if (!/^https?:\/\//.test(tokenUri)) throw new ServiceAccountError("the service account's token_uri is not an http(s) URL");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(field("private_key")!);
  } catch {
    throw new ServiceAccountError("the service account's private_key is not a PEM private key");
  }
  if (privateKey.asymmetricKeyType !== "rsa")
    throw new ServiceAccountError("the service account's private_key is not an RSA key");
  const keyId = field("private_key_id", true);
  return {
    projectId: field("project_id")!,
    clientEmail: field("client_email")!,
    ...(keyId ? { keyId } : {}),
    tokenUri,
    privateKey,
  };
}

export async function readServiceAccount(file: string): Promise<LoadedServiceAccount> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ServiceAccountError(`cannot read the service account file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ServiceAccountError("the service account file is not JSON");
  }
  return parseServiceAccount(json);
}

/**
 * A throwaway service account (fresh RSA key) whose token_uri is a simulator's: for the quick
 * start and tests. The simulator must be told the public key (`trust`).
 */
export function createServiceAccount(
  tokenUri: string,
  projectId = "ticketing-simulator",
): { account: ServiceAccount; publicKeyPem: string } {
  return accountWithKey(generateKeyPairSync("rsa", RSA_KEY), tokenUri, projectId);
}

/** The same, with the key made on libuv's thread pool: a 2048-bit RSA key is a few hundred ms of CPU. */
export async function createServiceAccountAsync(
  tokenUri: string,
  projectId = "ticketing-simulator",
): Promise<{ account: ServiceAccount; publicKeyPem: string }> {
  return accountWithKey(await generateRsaKeyPair("rsa", RSA_KEY), tokenUri, projectId);
}

const RSA_KEY = { modulusLength: 2048 } as const;
const generateRsaKeyPair = promisify(generateKeyPair);

function accountWithKey(
  { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject },
  tokenUri: string,
  projectId: string,
): { account: ServiceAccount; publicKeyPem: string } {
  const id = randomUUID().replace(/-/g, "").slice(0, 12);
  return {
    account: {
      project_id: projectId,
      client_email: `notifications-${id}@${projectId}.iam.gserviceaccount.com`,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      private_key_id: id,
      token_uri: tokenUri,
    },
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
