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

  it("a stop waits 10 s for requests under way unless SHUTDOWN_GRACE_MS says otherwise", () => {
    expect(loadConfig({}).shutdown).toEqual({ graceMs: 10_000 });
    expect(loadConfig({ SHUTDOWN_GRACE_MS: "2500" }).shutdown).toEqual({ graceMs: 2500 });
  });

  it("readiness tolerates 1,000 commits of lag unless READY_MAX_LAG says otherwise", () => {
    expect(loadConfig({}).ready).toEqual({ maxLag: 1000 });
    expect(loadConfig({ READY_MAX_LAG: "0" }).ready).toEqual({ maxLag: 0 });
  });

  it("the payment simulator listens next to the gateway (PORT+1) unless YOOKASSA_SIMULATOR_PORT says otherwise", () => {
    expect(loadConfig({}).payments.simulator).toEqual({ port: 3001 });
    expect(loadConfig({ PORT: "8080" }).payments.simulator).toEqual({ port: 8081 });
    expect(loadConfig({ PORT: "0" }).payments.simulator).toEqual({ port: 0 });
    expect(loadConfig({ YOOKASSA_SIMULATOR_PORT: "0" }).payments.simulator).toEqual({ port: 0 });
    expect(() => loadConfig({ YOOKASSA_SIMULATOR_PORT: "70000" })).toThrow(/YOOKASSA_SIMULATOR_PORT/);
  });

  it("order-page links are signed with ORDER_LINK_SECRET when given (32+ URL-safe characters), else a stored secret", () => {
    expect(loadConfig({}).orderLinks).toEqual({ secret: undefined });
    const secret = "0123456789abcdef0123456789abcdef";
    expect(loadConfig({ ORDER_LINK_SECRET: secret }).orderLinks).toEqual({ secret });
    expect(() => loadConfig({ ORDER_LINK_SECRET: "short" })).toThrow(/ORDER_LINK_SECRET/);
    expect(() => loadConfig({ ORDER_LINK_SECRET: `${secret} spaces` })).toThrow(/ORDER_LINK_SECRET/);
  });

  it("a waiting room's admission lasts WAITING_ROOM_ADMISSION_TTL_MS (10 minutes unless set, 1 s to a day)", () => {
    expect(loadConfig({}).waitingRoom).toEqual({ admissionTtlMs: 600_000 });
    expect(loadConfig({ WAITING_ROOM_ADMISSION_TTL_MS: "120000" }).waitingRoom).toEqual({ admissionTtlMs: 120_000 });
    for (const bad of ["0", "999", "soon", "86400001"]) {
      expect(() => loadConfig({ WAITING_ROOM_ADMISSION_TTL_MS: bad })).toThrow(/WAITING_ROOM_ADMISSION_TTL_MS/);
    }
  });

  it("metrics are off unless METRICS_PORT names a port, served on the gateway's HOST", () => {
    expect(loadConfig({}).metrics).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9464", HOST: "127.0.0.1" }).metrics).toEqual({ port: 9464, host: "127.0.0.1" });
  });

  it("payments are reconciled after a minute unless told otherwise", () => {
    expect(loadConfig({}).payments.reconcileAfterMs).toBe(60_000);
    expect(loadConfig({ PAYMENT_RECONCILE_AFTER_MS: "1500" }).payments.reconcileAfterMs).toBe(1500);
  });

  it.each([
    [{ PORT: "eighty" }, /PORT/],
    [{ DEV_ISSUER: "localhost/dev" }, /DEV_ISSUER/],
    [{ SHUTDOWN_GRACE_MS: "10s" }, /SHUTDOWN_GRACE_MS/],
    [{ SHUTDOWN_GRACE_MS: "-1" }, /SHUTDOWN_GRACE_MS/],
    [{ READY_MAX_LAG: "-1" }, /READY_MAX_LAG/],
    [{ READY_MAX_LAG: "lots" }, /READY_MAX_LAG/],
    [{ PAYMENT_RECONCILE_AFTER_MS: "soon" }, /PAYMENT_RECONCILE_AFTER_MS/],
    [{ METRICS_PORT: "metrics" }, /METRICS_PORT/],
    [{ METRICS_PORT: "70000" }, /METRICS_PORT/],
    [{ PAYMENT_RECONCILE_AFTER_MS: "5" }, /PAYMENT_RECONCILE_AFTER_MS/],
  ])("names the bad variable (%p)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("parked keys are retried after 1 s, doubling up to 5 min, and the cap is never below the first pause", () => {
    expect(loadConfig({}).runners).toMatchObject({ parkedRetryMs: 1000, parkedRetryMaxMs: 300_000 });
    expect(loadConfig({ RUNNER_PARKED_RETRY_MS: "600000" }).runners).toMatchObject({ parkedRetryMaxMs: 600_000 });
    expect(() => loadConfig({ RUNNER_PARKED_RETRY_MS: "2000", RUNNER_PARKED_RETRY_MAX_MS: "1000" })).toThrow(
      /RUNNER_PARKED_RETRY_MAX_MS must be at least 2000/,
    );
    expect(() => loadConfig({ RUNNER_PARKED_RETRY_MS: "soon" })).toThrow(/RUNNER_PARKED_RETRY_MS/);
  });
});
