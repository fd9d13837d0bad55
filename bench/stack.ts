/**
 * The stack a sale benchmark runs against: the quick start in this process, or gateway,
 * catalogue and sales as three processes over NATS and the MongoDB protocol (the test
 * servers: npm run infra:up).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../lib/app/app";
import type { DevIssuer } from "../lib/auth/dev-issuer";
import { MongoStore } from "../lib/store/mongo/mongo-store";
import type { Store } from "../lib/store/types";
import { apiClient } from "../test/support/api-client";
import { startCluster } from "../test/support/cluster";
import { devIssuerOf } from "../test/support/quickstart";

export type StackMode = "embedded" | "distributed";

export interface BenchStack {
  mode: StackMode;
  apiUrl: string;
  api: ReturnType<typeof apiClient>;
  issuer: DevIssuer;
  /** The store the stack writes (a second connection in distributed mode), to check the sale. */
  store: Store;
  stop(): Promise<void>;
}

export async function startStack(mode: StackMode): Promise<BenchStack> {
  const base = {
    DATA_DIR: mkdtempSync(join(tmpdir(), "bench-sale-")),
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    HOST: "127.0.0.1",
    LOG_LEVEL: "error",
    RUNNER_POLL_MS: "100",
    RATE_LIMIT_PER_MINUTE: "0",
  };
  if (mode === "embedded") {
    const app = await startApp({ ...base, PORT: "0" });
    const issuer = await devIssuerOf(base);
    return {
      mode,
      apiUrl: app.apiUrl!,
      api: apiClient(app.apiUrl!),
      issuer,
      store: app.runtime.store,
      stop: () => app.stop(),
    };
  }
  const { loadInfra, mongoUriFor } = await import("../test/support/infra");
  const infra = loadInfra(["nats", "mongo"]);
  const db = `bench_${randomUUID().slice(0, 8)}`;
  const cluster = await startCluster(
    {
      gateway: "api,runners",
      catalogue: "organizers,artists,venues,events,users,runners",
      sales: "inventory,orders,tickets,runners",
    },
    { ...base, TRANSPORTER: infra.natsUrl, NAMESPACE: db, MONGO_URI: mongoUriFor(db) },
  );
  const store = await MongoStore.open({ uri: mongoUriFor(db) });
  return {
    mode,
    apiUrl: cluster.apiUrl,
    api: apiClient(cluster.apiUrl),
    issuer: await devIssuerOf(cluster.env),
    store,
    async stop() {
      await cluster.stop();
      await store.connection.dropDatabase();
      await store.close();
    },
  };
}
