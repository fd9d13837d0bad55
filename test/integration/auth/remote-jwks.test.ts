import { createTokenVerifier, type AuthError, type RemoteKeyOptions } from "../../../lib/auth/verifier";
import { startOidcIssuer, TEST_AUDIENCE, type TestOidcIssuer } from "../../support/oidc-issuer";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let idp: TestOidcIssuer;
const warn = jest.fn();

function remoteVerifier(options: RemoteKeyOptions = {}, issuer = idp.issuer) {
  return createTokenVerifier({ issuer, audience: TEST_AUDIENCE, keys: { type: "remote", ...options }, logger: { warn } });
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  return promise.then(
    () => {
      throw new Error("expected the token to be refused");
    },
    (err: AuthError) => err,
  );
}

beforeEach(async () => {
  warn.mockReset();
  idp = await startOidcIssuer();
});

afterEach(() => idp.close());

describe("keys from a remote OIDC issuer", () => {
  it("are found through discovery on first use, then served from cache", async () => {
    const verifier = remoteVerifier();
    expect(idp.fetches).toEqual({ discovery: 0, jwks: 0 });
    const token = await idp.mint({ roles: ["customer"] });
    for (let i = 0; i < 5; i++) await expect(verifier.verify(token)).resolves.toMatchObject({ roles: ["customer"] });
    expect(idp.fetches).toEqual({ discovery: 1, jwks: 1 });
  });

  it("are fetched from an explicit jwksUri without discovery", async () => {
    const verifier = remoteVerifier({ jwksUri: idp.jwksUri });
    await expect(verifier.verify(await idp.mint())).resolves.toMatchObject({ sub: "user-1" });
    expect(idp.fetches).toEqual({ discovery: 0, jwks: 1 });
  });

  it("are not taken from a discovery document that names another issuer", async () => {
    const verifier = remoteVerifier({}, `${idp.issuer}/`);
    const token = await idp.mint({ claims: { iss: `${idp.issuer}/` } });
    expect(await rejection(verifier.verify(token))).toMatchObject({ reason: "ISSUER_UNAVAILABLE", status: 503 });
    expect(warn).toHaveBeenCalledWith(
      "Token issuer unavailable",
      expect.objectContaining({ error: expect.stringMatching(/names issuer/) }),
    );
  });

  it("are refetched after a rotation, and the removed key stops being trusted", async () => {
    const verifier = remoteVerifier({ cooldownMs: 100 });
    const before = await idp.mint();
    await verifier.verify(before);
    await idp.rotate();
    await sleep(150);
    await expect(verifier.verify(await idp.mint())).resolves.toMatchObject({ sub: "user-1" });
    expect(await rejection(verifier.verify(before))).toMatchObject({ reason: "TOKEN_UNKNOWN_KEY", status: 401 });
    expect(idp.fetches.jwks).toBe(2);
  });

  it("are not refetched for every unknown kid: one fetch per cool-down", async () => {
    const verifier = remoteVerifier({ cooldownMs: 60_000 });
    await verifier.verify(await idp.mint());
    const forged = await Promise.all(Array.from({ length: 20 }, (_, i) => idp.mint({ header: { kid: `unknown-${i}` } })));
    const errors = await Promise.all(forged.map((token) => rejection(verifier.verify(token))));
    for (const token of forged.slice(0, 5)) errors.push(await rejection(verifier.verify(token)));
    expect(errors.every((err) => err.reason === "TOKEN_UNKNOWN_KEY" && err.status === 401)).toBe(true);
    expect(idp.fetches.jwks).toBe(1);
  });
});

describe("when the issuer is unavailable", () => {
  it("answers 503 ISSUER_UNAVAILABLE, backs off, and recovers once the issuer is back", async () => {
    const verifier = remoteVerifier({ retryAfterMs: 300 });
    const token = await idp.mint();
    await idp.down();
    expect(await rejection(verifier.verify(token))).toMatchObject({ reason: "ISSUER_UNAVAILABLE", status: 503 });
    await idp.up();
    expect(await rejection(verifier.verify(token))).toMatchObject({ reason: "ISSUER_UNAVAILABLE" });
    expect(idp.fetches.discovery).toBe(0);
    await sleep(350);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls)).not.toContain(token.split(".")[2]);
  });

  it("keeps verifying with keys still in the cache", async () => {
    const verifier = remoteVerifier();
    const token = await idp.mint();
    await verifier.verify(token);
    await idp.down();
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });

  it("answers 503 once the cached keys are too old to trust, and recovers", async () => {
    const verifier = remoteVerifier({ cacheMaxAgeMs: 100, retryAfterMs: 50 });
    const token = await idp.mint();
    await verifier.verify(token);
    await idp.down();
    await sleep(150);
    expect(await rejection(verifier.verify(token))).toMatchObject({ reason: "ISSUER_UNAVAILABLE", status: 503 });
    await idp.up();
    await sleep(100);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });

  it.each([
    ["answers HTTP 500", { status: 500 }],
    ["does not answer in time", { delayMs: 5000 }],
  ])("answers 503 when the issuer %s", async (_, failure) => {
    const verifier = remoteVerifier({ timeoutMs: 200, retryAfterMs: 50 });
    const token = await idp.mint();
    idp.fail(failure);
    const started = Date.now();
    expect(await rejection(verifier.verify(token))).toMatchObject({ reason: "ISSUER_UNAVAILABLE", status: 503 });
    expect(Date.now() - started).toBeLessThan(2000);
    idp.fail(undefined);
    await sleep(100);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "user-1" });
  });
});
