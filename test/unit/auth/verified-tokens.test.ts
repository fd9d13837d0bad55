import { VerifiedTokens } from "../../../lib/auth/verified-tokens";
import type { Principal } from "../../../lib/auth/principal";

const ann: Principal = { sub: "ann", roles: ["customer"] };
const bob: Principal = { sub: "bob", roles: ["organizer"], organizerId: "org" };
const v = (principal: Principal) => ({ principal: { ...principal }, key: "k1", header: { alg: "RS256", kid: "k1" } });

describe("verified tokens", () => {
  it("answers for a token until it expires, never after", () => {
    const cache = new VerifiedTokens(10, 3600);
    cache.set("t1", v(ann), 1_000, 900);
    expect(cache.get("t1", 999)?.principal).toEqual(ann);
    expect(cache.get("t1", 1_000)).toBeUndefined();
    // An expired entry is gone, not revived by an earlier clock.
    expect(cache.get("t1", 950)).toBeUndefined();
  });

  it("checks the signature again after maxAgeSec even if the token lives longer", () => {
    const cache = new VerifiedTokens(10, 60);
    cache.set("t1", v(ann), 10_000, 1_000);
    expect(cache.get("t1", 1_059)?.principal).toEqual(ann);
    expect(cache.get("t1", 1_060)).toBeUndefined();
  });

  it("knows only the exact token it verified", () => {
    const cache = new VerifiedTokens(10, 60);
    cache.set("header.payload.signature", v(ann), 2_000, 1_000);
    expect(cache.get("header.payload.signaturf", 1_001)).toBeUndefined();
    expect(cache.get("header.payload.signature ", 1_001)).toBeUndefined();
  });

  it("drops the least recently used token when full, and hands out principals nobody can change", () => {
    const cache = new VerifiedTokens(2, 60);
    cache.set("a", v(ann), 2_000, 1_000);
    cache.set("b", v(bob), 2_000, 1_000);
    expect(cache.get("a", 1_001)?.principal).toEqual(ann); // a is now the most recently used
    cache.set("c", v(ann), 2_000, 1_000);
    expect(cache.get("b", 1_001)).toBeUndefined();
    expect(cache.get("a", 1_001)?.principal).toEqual(ann);
    const principal = cache.get("c", 1_001)!.principal;
    expect(() => {
      (principal as { sub: string }).sub = "mallory";
    }).toThrow(TypeError);
  });

  it("keeps nothing when its size is 0", () => {
    const cache = new VerifiedTokens(0, 60);
    cache.set("a", v(ann), 2_000, 1_000);
    expect(cache.get("a", 1_001)).toBeUndefined();
  });
});
