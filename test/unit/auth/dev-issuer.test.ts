import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { loadOrCreateDevIssuer, type DevIssuer } from "../../../lib/auth/dev-issuer";
import { createTokenVerifier } from "../../../lib/auth/verifier";

const ISSUER = "http://localhost:3000/dev-issuer";
const AUDIENCE = "ticketing-api";

let dataDir: string;
const keyFile = (): string => join(dataDir, "dev-issuer", "keys.json");
const load = (): Promise<DevIssuer> => loadOrCreateDevIssuer({ dataDir, issuer: ISSUER, audience: AUDIENCE });
const verifierFor = (issuer: DevIssuer) =>
  createTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, keys: { type: "local", jwks: issuer.jwks } });

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "dev-issuer-"));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("loadOrCreateDevIssuer", () => {
  it("creates a private key readable by the owner only, and publishes only its public half", async () => {
    const issuer = await load();
    expect((await stat(keyFile())).mode & 0o777).toBe(0o600);
    expect(issuer.jwks.keys).toHaveLength(1);
    expect(issuer.jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: expect.any(String) });
    expect(issuer.jwks.keys[0]).not.toHaveProperty("d");
    expect(JSON.parse(await readFile(keyFile(), "utf8"))).toHaveProperty("d");
  });

  it("keeps the key across restarts, so earlier tokens stay valid", async () => {
    const token = await (await load()).mint({ roles: ["admin"] });
    await expect(verifierFor(await load()).verify(token)).resolves.toMatchObject({ roles: ["admin"] });
  });

  it("ends up with one key when two processes create it at once", async () => {
    const [a, b] = await Promise.all([load(), load()]);
    expect(a.jwks).toEqual(b.jwks);
  });

  it("names the key file when it is corrupt, instead of silently replacing it", async () => {
    await mkdir(join(dataDir, "dev-issuer"), { recursive: true });
    await writeFile(keyFile(), '{"kty":"RSA"}');
    await expect(load()).rejects.toThrow(keyFile());
  });
});

describe("DevIssuer.mint", () => {
  it("produces a Keycloak-shaped access token that the verifier accepts", async () => {
    const issuer = await load();
    const token = await issuer.mint({
      sub: "u-1",
      roles: ["organizer"],
      organizerId: "org-1",
      email: "ann@example.test",
      name: "ann",
      ttlSeconds: 60,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", typ: "JWT", kid: issuer.jwks.keys[0].kid });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "u-1",
      typ: "Bearer",
      azp: expect.any(String),
      realm_access: { roles: ["organizer"] },
      organizer_id: "org-1",
      email: "ann@example.test",
      preferred_username: "ann",
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(60);
    await expect(verifierFor(issuer).verify(token)).resolves.toMatchObject({
      sub: "u-1",
      roles: ["organizer"],
      organizerId: "org-1",
    });
  });

  it("gives the same subject to tokens minted for the same roles", async () => {
    const issuer = await load();
    const first = decodeJwt(await issuer.mint({ roles: ["customer"] }));
    const second = decodeJwt(await issuer.mint({ roles: ["customer"] }));
    expect(first.sub).toBe(second.sub);
  });

  it("refuses a non-positive lifetime", async () => {
    await expect((await load()).mint({ roles: ["admin"], ttlSeconds: 0 })).rejects.toThrow(RangeError);
  });
});
