import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { ServiceBroker, type Middleware } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { SERVICE_FACTORIES } from "../../services";
import { loadConfig, type AppConfig } from "../config/config";
import type { Env } from "../config/env";
import { AppMetrics } from "../metrics/app-metrics";
import { EventLoopDelay } from "../metrics/event-loop";
import { collectRunnerMetrics } from "../metrics/runner-metrics";
import { createRuntime, type Runtime } from "./runtime";

export interface App {
  broker: ServiceBroker;
  runtime: Runtime;
  config: AppConfig;
  /** The gateway's base URL when this process runs it. */
  apiUrl?: string;
  stop(): Promise<void>;
}

/**
 * Builds and starts one process of the platform: the services SERVICES names, on the store
 * and transporter the configuration picks. The quick start and each distributed container
 * run exactly this.
 */
export async function startApp(env: Env = process.env): Promise<App> {
  const config = loadConfig(env);
  const instanceId = `${config.nodeId ?? "node"}-${randomUUID().slice(0, 8)}`;
  let runtime: Runtime | null = null;
  const loop = config.metrics ? new EventLoopDelay() : null;
  const options = brokerConfig(config, async () => {
    if (!runtime) return;
    loop?.collect(runtime.metrics);
    await collectRunnerMetrics(runtime.runners, runtime.metrics);
  });
  const broker = new ServiceBroker({ ...options, middlewares: [...(options.middlewares ?? []), stopInOrder(() => runtime)] });
  runtime = await createRuntime(config, broker.getLogger("runtime"), instanceId, new AppMetrics(broker.metrics));
  try {
    for (const name of config.services) {
      broker.createService(SERVICE_FACTORIES[name](runtime));
    }
    await broker.start();
  } catch (err) {
    loop?.stop();
    await broker.stop().catch(() => undefined);
    await runtime.close();
    throw err;
  }
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= broker.stop().finally(() => loop?.stop()));
  const apiUrl = gatewayUrl(broker, config);
  // The simulator calls back the way YooKassa would: to this process's gateway, or (in a
  // cluster, where the gateway is another process) to the public URL.
  const apiBase = apiUrl ?? `${config.http.publicUrl}/api`;
  runtime.paymentSimulator?.setWebhookUrl(`${apiBase.replace("localhost", "127.0.0.1")}/payments/yookassa/webhook`);
  return { broker, runtime, config, apiUrl, stop };
}

/**
 * Every stop of the broker (a signal, the REPL's `quit`, a test) goes the same way: the work
 * under way finishes first (the gateway's requests), then the services stop (runners at a
 * checkpoint), and last the stores close (the embedded store folds its write-ahead log in and removes its LOCK).
 */
function stopInOrder(runtime: () => Runtime | null): Middleware {
  return {
    name: "StopInOrder",
    async stopping() {
      await Promise.all(runtime()?.drains.map((drain) => drain()) ?? []);
    },
    async stopped() {
      await runtime()?.close();
    },
  };
}

function gatewayUrl(broker: ServiceBroker, config: AppConfig): string | undefined {
  const api = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo | string | null } } | undefined;
  const address = api?.server?.address();
  if (!address || typeof address === "string") return undefined;
  const host = config.http.host === "0.0.0.0" || config.http.host === "::" ? "localhost" : config.http.host;
  return `http://${host}:${address.port}/api`;
}
