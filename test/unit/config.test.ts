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

  it("payments are reconciled after a minute unless told otherwise", () => {
    expect(loadConfig({}).payments.reconcileAfterMs).toBe(60_000);
    expect(loadConfig({ PAYMENT_RECONCILE_AFTER_MS: "1500" }).payments.reconcileAfterMs).toBe(1500);
  });

  it.each([
    [{ PORT: "eighty" }, /PORT/],
    [{ DEV_ISSUER: "localhost/dev" }, /DEV_ISSUER/],
    [{ PAYMENT_RECONCILE_AFTER_MS: "soon" }, /PAYMENT_RECONCILE_AFTER_MS/],
    [{ PAYMENT_RECONCILE_AFTER_MS: "5" }, /PAYMENT_RECONCILE_AFTER_MS/],
  ])("names the bad variable (%p)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
