/**
 * The waiting room's admission: a short-lived token that lets one account order for one event.
 * `<expiry in base 36>.<HMAC-SHA256 of (event, account, expiry), base64url>`: the event and the
 * account are not in the token (the order names both), so it is short and says nothing about
 * who holds it; nobody without the server secret can make one, nor move one to another event
 * or account, nor extend it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/types";
import { storedSecret } from "./stored-secret";

/** Domain separation from the other uses of HMAC in this code base. */
const PURPOSE = "admission:v1\n";
const SECRET_ID = "admission-tokens";
const SHAPE = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

export type AdmissionCheck = "ok" | "invalid" | "expired";

export interface AdmissionTokens {
  /** The token admitting `sub` to order for `eventId` until `expiresAt` (epoch ms); the same inputs give the same token. */
  issue(eventId: string, sub: string, expiresAt: number): string;
  /** Whether `token` admits `sub` to `eventId` at `now` (constant-time comparison). */
  verify(token: unknown, eventId: string, sub: string, now: number): AdmissionCheck;
}

export function admissionTokens(secret: string): AdmissionTokens {
  if (secret.length < 32) throw new RangeError("the admission-token secret must have at least 32 characters");
  const mac = (eventId: string, sub: string, expiresAt: number) =>
    createHmac("sha256", secret).update(`${PURPOSE}${eventId}\n${sub}\n${expiresAt}`).digest();
  return {
    issue: (eventId, sub, expiresAt) => `${expiresAt.toString(36)}.${mac(eventId, sub, expiresAt).toString("base64url")}`,
    verify(token, eventId, sub, now) {
      if (typeof token !== "string") return "invalid";
      const parts = SHAPE.exec(token);
      if (!parts) return "invalid";
      const expiresAt = parseInt(parts[1], 36);
      const given = Buffer.from(parts[2], "base64url");
      const expected = mac(eventId, sub, expiresAt);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
      return now < expiresAt ? "ok" : "expired";
    },
  };
}

/** The key kept in the store (see stored-secret.ts): every node verifies what any node issued. */
export async function loadAdmissionTokens(store: Store): Promise<AdmissionTokens> {
  return admissionTokens(await storedSecret(store, SECRET_ID));
}
