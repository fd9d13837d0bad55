import { randomUUID } from "node:crypto";
import { startApp, type App } from "../../lib/app/app";
import { parkedCommand } from "../../lib/repl/parked.command";
import { projectionsCommand } from "../../lib/repl/projections.command";
import { apiClient, eventually } from "../support/api-client";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface ReadyBody {
  status: string;
  problems: string[];
  parked: string[];
  nodes: Array<{ runners: Array<{ name: string; state: string; lag: number }> }>;
}

/** A notification as the webhook records it: a pointer to the payment, on the payment's stream. */
async function recordNotification(app: App, paymentId: string): Promise<number> {
  const { commit } = await app.runtime.store.log("sales").append({
    stream: `payment-${paymentId}`,
    expectedSeq: 0,
    events: [{ type: "PaymentNotified", data: { paymentId, event: "payment.succeeded" } }],
  });
  app.runtime.runners.wake("sales");
  return commit.pos;
}

describe("operating parked keys: /api/ready and the REPL", () => {
  let app: App | null = null;
  afterEach(async () => {
    await app?.stop();
    app = null;
  });

  test("a payment the provider keeps failing is parked, reported as degraded, retried and skipped from the REPL", async () => {
    const env = quickStartEnv("parked", { LOG_LEVEL: "fatal", RUNNER_PARKED_RETRY_MS: "100", RUNNER_PARKED_RETRY_MAX_MS: "400" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    const token = await (await devIssuerOf(env)).mint({ sub: "ops", roles: ["admin"] });
    const ready = () => api<ReadyBody>("GET", "/ready", { token });
    const simulator = app.runtime.paymentSimulator!;

    // The provider answers 503 for this one payment, however often it is asked.
    const stuck = randomUUID();
    simulator.setFault({ status: 503, path: `/v3/payments/${stuck}`, retryAfterMs: 10 });
    const stuckPos = await recordNotification(app, stuck);
    // Another payment's notification behind it (unknown to the provider: settled by ignoring it).
    const otherPos = await recordNotification(app, randomUUID());

    const degraded = await eventually(ready, (r) => r.body.status === "degraded");
    expect(degraded.status).toBe(200);
    expect(degraded.body.problems).toEqual([]);
    expect(degraded.body.parked).toEqual([
      expect.stringMatching(new RegExp(`subscription sales\\.payments: key ${stuck} parked at position ${stuckPos} \\(1 event`)),
    ]);
    // The subscription itself went on past both notifications.
    const payments = degraded.body.nodes.flatMap((n) => n.runners).find((r) => r.name === "sales.payments");
    expect(payments?.state).not.toBe("halted");
    await eventually(
      () => api<ReadyBody>("GET", "/ready", { token }),
      (r) => r.body.nodes.flatMap((n) => n.runners).some((x) => x.name === "sales.payments" && x.lag === 0),
    );
    expect(otherPos).toBeGreaterThan(stuckPos);

    const listed = await parkedCommand(app.broker, {});
    expect(listed).toMatch(new RegExp(`sales\\.payments\\s+${stuck}\\s+${stuckPos}\\s+1\\s+\\d+\\s+\\S+\\s+.*503`));
    expect(await projectionsCommand(app.broker, {})).toMatch(/sales\.payments\s+\w+\s+.*1 parked key\(s\)/);

    // The provider recovers: an admin's retry settles it, and ready says so.
    simulator.setFault(null);
    expect(await parkedCommand(app.broker, { action: "retry", subscription: "sales.payments", key: stuck })).toMatch(
      /retrying key/,
    );
    const recovered = await eventually(ready, (r) => r.body.status === "ready");
    expect(recovered.body.parked).toEqual([]);
    expect(await parkedCommand(app.broker, {})).toBe("no parked keys");

    // Another one stays broken: an admin drops it with a reason.
    const hopeless = randomUUID();
    simulator.setFault({ status: 503, path: `/v3/payments/${hopeless}`, retryAfterMs: 10 });
    const hopelessPos = await recordNotification(app, hopeless);
    await eventually(ready, (r) => r.body.parked.some((line) => line.includes(hopeless)));
    const skipped = await parkedCommand(app.broker, {
      action: "skip",
      subscription: "sales.payments",
      key: hopeless,
      reason: ["provider", "lost", "this", "payment"],
    });
    expect(skipped).toMatch(new RegExp(`skipped event .* at position ${hopelessPos} of key ${hopeless}; the key is released`));
    expect((await eventually(ready, (r) => r.body.status === "ready")).body.parked).toEqual([]);
    expect(await parkedCommand(app.broker, { action: "skip", subscription: "sales.payments", key: "payment-x" })).toMatch(
      /^usage/,
    );
  });
});
