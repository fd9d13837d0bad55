/**
 * OAuth2 access tokens for a service account (RFC 7523 JWT bearer grant, as Google's token
 * endpoint takes it): a JWT signed with the account's key is exchanged for a bearer token,
 * which is kept until shortly before it expires. One exchange at a time: concurrent sends
 * wait for the same one.
 */
import { SignJWT } from "jose";
import { DeliveryError } from "../delivery";
import { isRetryableStatus, postForDelivery, retryAfterMs } from "../delivery-http";
import { isRecord, redact } from "../http";
import type { LoadedServiceAccount } from "./fcm.account";

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_S = 3600;
/** A token is renewed this long before it expires (at most half its lifetime). */
const RENEW_BEFORE_MS = 60_000;

interface CachedToken {
  value: string;
  renewAt: number;
}

export class AccessTokenSource {
  #token: CachedToken | null = null;
  #pending: Promise<string> | null = null;
  /** Exchanges made (tests check the cache; operators may too). */
  exchanges = 0;

  constructor(
    private readonly account: LoadedServiceAccount,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A bearer token that is not about to expire. Throws DeliveryError (transient) when none can be had. */
  async get(): Promise<string> {
    const token = this.#token;
    if (token && this.now() < token.renewAt) return token.value;
    this.#pending ??= this.exchange().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  /** The provider refused `value` (401): forget it unless a newer one already replaced it. */
  invalidate(value: string): void {
    if (this.#token?.value === value) this.#token = null;
  }

  private async exchange(): Promise<string> {
    this.exchanges += 1;
    // The lifetime counts from before the request: the token may have been issued any time during it.
    const started = this.now();
    const issuedAt = Math.floor(started / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(this.account.keyId ? { kid: this.account.keyId } : {}) })
      .setIssuer(this.account.clientEmail)
      .setAudience(this.account.tokenUri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_S)
      .sign(this.account.privateKey);
    const what = "FCM access token";
    const response = await postForDelivery({
      url: new URL(this.account.tokenUri),
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      timeoutMs: this.timeoutMs,
      what,
    });
    const { status, json } = response;
    if (status !== 200) {
      const detail = isRecord(json) && typeof json.error === "string" ? ` (${redact(json.error, [assertion])})` : "";
      // Refused credentials are transient too: fixing the key file must not have lost the messages.
      const wait = isRetryableStatus(status) ? retryAfterMs(response.headers) : undefined;
      throw new DeliveryError(`${what}: the token endpoint answered HTTP ${status}${detail}`, "transient", wait);
    }
    if (!isRecord(json) || typeof json.access_token !== "string" || json.access_token === "") {
      throw new DeliveryError(`${what}: the token endpoint's answer has no access_token`, "transient");
    }
    const lifetimeMs = (typeof json.expires_in === "number" && json.expires_in > 0 ? json.expires_in : 3600) * 1000;
    this.#token = { value: json.access_token, renewAt: started + lifetimeMs - Math.min(RENEW_BEFORE_MS, lifetimeMs / 2) };
    return json.access_token;
  }
}
