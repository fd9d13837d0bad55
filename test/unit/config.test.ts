import { loadConfig } from "../../lib/config/config";

describe("configuration", () => {
  it("the quick start's development issuer defaults to ./data, the gateway's port and the API audience", () => {
    expect(loadConfig({}).auth).toEqual({
      mode: "dev",
      dataDir: "./data",
      issuer: "http://localhost:3000/dev-issuer",
      audience: "ticketing-api",
    });
    expect(loadConfig({ PORT: "8080" }).auth).toMatchObject({ issuer: "http://localhost:8080/dev-issuer" });
  });

  it("readiness tolerates 1,000 commits of lag unless READY_MAX_LAG says otherwise", () => {
    expect(loadConfig({}).ready).toEqual({ maxLag: 1000 });
    expect(loadConfig({ READY_MAX_LAG: "0" }).ready).toEqual({ maxLag: 0 });
  });

  it.each([
    [{ PORT: "eighty" }, /PORT/],
    [{ DEV_ISSUER: "localhost/dev" }, /DEV_ISSUER/],
    [{ READY_MAX_LAG: "-1" }, /READY_MAX_LAG/],
    [{ READY_MAX_LAG: "lots" }, /READY_MAX_LAG/],
  ])("names the bad variable (%p)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
