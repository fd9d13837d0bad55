import type { Principal } from "./principal";

/** What a verification established, and the key that did it. */
export interface Verified<K = unknown> {
  principal: Principal;
  /** The key the signature was checked with: the entry counts only while the issuer still hands out that very key. */
  key: K;
  /** The token's protected header, to ask the issuer's key set for that key again. */
  header: Record<string, unknown>;
}

interface Entry<K> extends Verified<K> {
  /** Epoch seconds after which the entry is not used: the token's `exp`, or sooner. */
  until: number;
}

/**
 * Tokens already verified, so a buyer's every request does not pay for an RSA signature check
 * again. Keyed by the whole token (a different byte is a different token); an entry lives until
 * the token expires, at most `maxAgeSec`. The verifier still asks the key set for the signing
 * key on every use (cheap, no cryptography), so a key the issuer withdrew or keys too old to
 * trust end the entry as they would a fresh verification. Bounded: least recently used first.
 */
export class VerifiedTokens<K = unknown> {
  private readonly entries = new Map<string, Entry<K>>();

  constructor(
    private readonly size: number,
    private readonly maxAgeSec: number,
  ) {}

  get(token: string, nowSec: number): Verified<K> | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    if (entry.until <= nowSec) return undefined;
    this.entries.set(token, entry);
    return entry;
  }

  set(token: string, verified: Verified<K>, exp: number, nowSec: number): void {
    if (this.size <= 0) return;
    if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value!);
    Object.freeze(verified.principal);
    this.entries.set(token, { ...verified, until: Math.min(exp, nowSec + this.maxAgeSec) });
  }

  forget(token: string): void {
    this.entries.delete(token);
  }
}
