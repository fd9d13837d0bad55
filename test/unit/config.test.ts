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

  it.each([
    [{ PORT: "eighty" }, /PORT/],
    [{ DEV_ISSUER: "localhost/dev" }, /DEV_ISSUER/],
  ])("names the bad variable (%p)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
