/** http_ece (Encrypted Content-Encoding for HTTP, RFC 8188/8291), web-push's own dependency: the part the tests use. */
declare module "http_ece" {
  import type { ECDH } from "node:crypto";

  export interface EceParams {
    version?: "aes128gcm" | "aesgcm";
    /** The receiver's key pair (the subscription's P-256 key). */
    privateKey?: ECDH;
    /** The subscription's 16-byte auth secret, base64url or bytes. */
    authSecret?: string | Buffer;
    /** aesgcm only: the sender's public key. */
    dh?: string | Buffer;
    salt?: string | Buffer;
    rs?: number;
    key?: string | Buffer;
    keyid?: string;
  }

  export function decrypt(buffer: Buffer, params: EceParams): Buffer;
  export function encrypt(buffer: Buffer, params: EceParams): Buffer;
}
