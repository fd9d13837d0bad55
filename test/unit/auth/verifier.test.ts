import { base64url, decodeJwt, generateKeyPair } from "jose";
import { AuthError, createTokenVerifier, parseBearer, type TokenVerifier } from "../../../lib/auth/verifier";
import { requireRole } from "../../../lib/auth/principal";
import { createTestSigner, TEST_AUDIENCE, TEST_CLIENT_ID, type TestSigner } from "../../support/oidc-issuer";

const ISSUER = "https://sso.example.test/realms/ticketing";
const now = (): number => Math.floor(Date.now() / 1000);

let signer: TestSigner;
let verifier: TokenVerifier;

beforeAll(async () => {
  signer = await createTestSigner(ISSUER);
  verifier = createTokenVerifier({ issuer: ISSUER, audience: TEST_AUDIENCE, keys: { type: "local", jwks: signer.jwks() } });
});

/** The rejection, checked to be an AuthError whose message leaks no part of the token. */
async function rejection(token: string, by: TokenVerifier = verifier): Promise<AuthError> {
  const err: unknown = await by.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(err)}`);
  for (const segment of token.split(".").filter((s) => s.length > 8)) expect(err.message).not.toContain(segment);
  return err;
}

function withPayload(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [header, , signature] = token.split(".");
  const claims: Record<string, unknown> = { ...decodeJwt(token) };
  change(claims);
  return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
}

describe("a valid token", () => {
  it("yields the principal with its roles, organizer and identity", async () => {
    const token = await signer.mint({
      roles: ["organizer", "customer"],
      claims: { sub: "u-42", organizer_id: "org-7", email: "ann@example.test", name: "Ann" },
    });
    await expect(verifier.verify(token)).resolves.toEqual({
      sub: "u-42",
      roles: ["organizer", "customer"],
      organizerId: "org-7",
      email: "ann@example.test",
      name: "Ann",
      clientId: TEST_CLIENT_ID,
    });
  });

  it("is verified once: the same token again is answered from the cache, a changed one is not", async () => {
    const token = await signer.mint({ roles: ["customer"], claims: { sub: "u-cache" } });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    const [header, payload, signature] = token.split(".");
    const tampered = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    await expect(verifier.verify(tampered)).rejects.toMatchObject({ status: 401 });
  });

  it("falls back to preferred_username for the name", async () => {
    const token = await signer.mint({ claims: { preferred_username: "ann" } });
    expect((await verifier.verify(token)).name).toBe("ann");
  });

  it("counts client roles of our client only, and ignores roles the product does not know", async () => {
    const token = await signer.mint({
      claims: {
        organizer_id: "org-1",
        realm_access: { roles: ["checker", "offline_access", "uma_authorization"] },
        resource_access: {
          [TEST_AUDIENCE]: { roles: ["organizer", "manage-account"] },
          account: { roles: ["admin"] },
        },
      },
    });
    expect((await verifier.verify(token)).roles).toEqual(["checker", "organizer"]);
  });

  it("reads client roles and the organizer claim where configured", async () => {
    const custom = createTokenVerifier({
      issuer: ISSUER,
      audience: TEST_AUDIENCE,
      keys: { type: "local", jwks: signer.jwks() },
      clientId: "backoffice",
      organizerClaim: "org",
    });
    const token = await signer.mint({
      roles: [],
      claims: { org: "org-9", organizer_id: "ignored", resource_access: { backoffice: { roles: ["admin"] } } },
    });
    const principal = await custom.verify(token);
    expect(principal.roles).toEqual(["admin"]);
    expect(principal.organizerId).toBe("org-9");
  });

  it("reads the events a checker is limited to, as a list or a single value", async () => {
    const listed = await signer.mint({
      roles: ["checker"],
      claims: { organizer_id: "org-1", event_ids: ["gig-1", "gig-2", "gig-1"] },
    });
    await expect(verifier.verify(listed)).resolves.toMatchObject({
      roles: ["checker"],
      organizerId: "org-1",
      eventIds: ["gig-1", "gig-2"],
    });
    const single = await signer.mint({ roles: ["checker"], claims: { organizer_id: "org-1", event_ids: "gig-1" } });
    expect((await verifier.verify(single)).eventIds).toEqual(["gig-1"]);
    const all = await signer.mint({ roles: ["checker"], claims: { organizer_id: "org-1" } });
    expect((await verifier.verify(all)).eventIds).toBeUndefined();
  });

  it("does not grant the checker role without an organizer, and says which claim is missing", async () => {
    const token = await signer.mint({ roles: ["checker", "customer"] });
    const principal = await verifier.verify(token);
    expect(principal.roles).toEqual(["customer"]);
    expect(() => requireRole(principal, "checker", "admin")).toThrow(
      expect.objectContaining({ reason: "FORBIDDEN", message: expect.stringContaining('"organizer_id"') }),
    );
    const custom = createTokenVerifier({
      issuer: ISSUER,
      audience: TEST_AUDIENCE,
      keys: { type: "local", jwks: signer.jwks() },
      organizerClaim: "org",
    });
    expect((await custom.verify(token)).withheld?.checker).toContain('"org"');
    // An admin admits every ticket: nothing to scope.
    const admin = await signer.mint({ roles: ["checker", "admin"] });
    expect((await verifier.verify(admin)).roles).toEqual(["checker", "admin"]);
  });

  it("is accepted when our audience is one of several", async () => {
    const token = await signer.mint({ claims: { aud: ["account", TEST_AUDIENCE] } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });

  it("tolerates a few seconds of clock skew", async () => {
    const token = await signer.mint({ claims: { exp: now() - 2, nbf: now() + 2 } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });

  it("is verified without a kid when the issuer has a single signing key", async () => {
    const token = await signer.mint({ header: { kid: undefined } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });
});

describe("a token is refused with 401 and a reason when it", () => {
  const cases: Array<[string, () => Promise<string>, string]> = [
    ["has expired", () => signer.mint({ claims: { exp: now() - 60 } }), "TOKEN_EXPIRED"],
    ["is not valid yet (nbf)", () => signer.mint({ claims: { nbf: now() + 60 } }), "TOKEN_NOT_YET_VALID"],
    [
      "comes from another issuer",
      () => signer.mint({ claims: { iss: "https://evil.test/realms/ticketing" } }),
      "TOKEN_BAD_ISSUER",
    ],
    ["has no issuer", () => signer.mint({ claims: { iss: undefined } }), "TOKEN_BAD_ISSUER"],
    ["is meant for another audience", () => signer.mint({ claims: { aud: "account" } }), "TOKEN_BAD_AUDIENCE"],
    ["has no audience", () => signer.mint({ claims: { aud: undefined } }), "TOKEN_BAD_AUDIENCE"],
    ["has no expiry", () => signer.mint({ claims: { exp: undefined } }), "TOKEN_MALFORMED"],
    ["has no subject", () => signer.mint({ claims: { sub: undefined } }), "TOKEN_MALFORMED"],
    ["has an empty subject", () => signer.mint({ claims: { sub: "" } }), "TOKEN_MALFORMED"],
    ["lists its events as something else than strings", () => signer.mint({ claims: { event_ids: [7] } }), "TOKEN_MALFORMED"],
    ["lists an empty event id", () => signer.mint({ claims: { event_ids: [""] } }), "TOKEN_MALFORMED"],
    ["is an ID token, not an access token", () => signer.mint({ claims: { typ: "ID" } }), "TOKEN_WRONG_TYPE"],
    ["is unsigned (alg none)", () => signer.mint({ alg: "none" }), "TOKEN_ALG_NOT_ALLOWED"],
    [
      "is HS256 signed with the issuer's public key as secret (algorithm confusion)",
      () => signer.mint({ alg: "HS256", key: new TextEncoder().encode(signer.current.publicKeyPem) }),
      "TOKEN_ALG_NOT_ALLOWED",
    ],
    [
      "uses an asymmetric algorithm that is not on the list",
      async () => signer.mint({ alg: "ES256", key: (await generateKeyPair("ES256")).privateKey }),
      "TOKEN_ALG_NOT_ALLOWED",
    ],
    [
      "is signed by another key under the issuer's kid",
      async () => signer.mint({ key: (await createTestSigner(ISSUER)).current.privateKey }),
      "TOKEN_BAD_SIGNATURE",
    ],
    [
      "has a tampered payload",
      async () => withPayload(await signer.mint(), (claims) => (claims.realm_access = { roles: ["admin"] })),
      "TOKEN_BAD_SIGNATURE",
    ],
    ["names a key the issuer does not publish", () => signer.mint({ header: { kid: "no-such-key" } }), "TOKEN_UNKNOWN_KEY"],
    [
      "is signed with the issuer's encryption key",
      () => signer.mint({ key: signer.encryptionKey.privateKey, header: { kid: signer.encryptionKey.kid } }),
      "TOKEN_UNKNOWN_KEY",
    ],
  ];

  it.each(cases)("%s", async (_, token, reason) => {
    const err = await rejection(await token());
    expect(err).toMatchObject({ reason, status: 401 });
  });

  it.each([
    ["one segment", "abc"],
    ["two segments", "abc.def"],
    ["garbage segments", "a.b.c"],
    ["a JWE (five segments)", "a.b.c.d.e"],
    ["a header that is not JSON", `${base64url.encode("nope")}.${base64url.encode("{}")}.sig`],
  ])("is malformed: %s", async (_, token) => {
    expect(await rejection(token)).toMatchObject({ reason: "TOKEN_MALFORMED", status: 401 });
  });

  it("is empty", async () => {
    expect(await rejection("")).toMatchObject({ reason: "TOKEN_MISSING", status: 401 });
  });
});

describe("createTokenVerifier", () => {
  it("refuses shared-secret algorithms, which would let a public key act as the secret", () => {
    expect(() =>
      createTokenVerifier({
        issuer: ISSUER,
        audience: TEST_AUDIENCE,
        keys: { type: "local", jwks: signer.jwks() },
        algorithms: ["RS256", "HS256"],
      }),
    ).toThrow(/HS256/);
  });
});

describe("parseBearer", () => {
  it("returns the token of a Bearer header, whatever the scheme's case", () => {
    expect(parseBearer("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseBearer("bearer abc.def.ghi")).toBe("abc.def.ghi");
  });

  it.each([[undefined], [""], ["   "]])("reports a missing header (%p) as TOKEN_MISSING", (header) => {
    expect(() => parseBearer(header)).toThrow(expect.objectContaining({ reason: "TOKEN_MISSING", status: 401 }));
  });

  it.each([["Basic dXNlcjpwYXNz"], ["Bearer"], ["Bearer "], ["Bearer a b"], ["Token abc.def.ghi"], ["abc.def.ghi"]])(
    "reports %p as TOKEN_MALFORMED",
    (header) => {
      expect(() => parseBearer(header)).toThrow(expect.objectContaining({ reason: "TOKEN_MALFORMED", status: 401 }));
    },
  );
});
