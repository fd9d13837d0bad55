import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopNode, tail, type ClusterNode } from "./cluster";
import { freePort } from "./free-port";
import { waitFor } from "./wait";

/** A real Prometheus server (Debian package `prometheus`) of one test: own config, storage, port. */
export interface PrometheusServer {
  url: string;
  /** The instant vector of a PromQL query, as `/api/v1/query` answers it. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

const BINARY = process.env.PROMETHEUS_BIN ?? "prometheus";

/**
 * Starts Prometheus scraping `targets` (host:port, path /metrics) every second. The binary
 * missing is a failure that says how to get it, never a skipped test: CI installs it with the
 * other test servers (scripts/infra/up.sh).
 */
export async function startPrometheus(name: string, targets: string[]): Promise<PrometheusServer> {
  if (spawnSync(BINARY, ["--version"]).error) {
    throw new Error(
      `the Prometheus binary (${BINARY}) was not found: run scripts/infra/up.sh, which installs it, ` +
        "or apt-get install prometheus (or set PROMETHEUS_BIN)",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), `${name}-prometheus-`));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      `  - job_name: ${name}`,
      `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn(
    BINARY,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=${address}`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const node: ClusterNode = { name: "prometheus", process: child, output: [], env: {} };
  const keep = (chunk: Buffer) => {
    node.output.push(chunk.toString());
    if (node.output.length > 200) node.output.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://${address}`;
  const stop = async () => {
    await stopNode(node);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      "Prometheus to answer /-/ready",
      () => fetch(`${url}/-/ready`).then((r) => r.status),
      (status) => status === 200,
      { timeoutMs: 30_000, abandon: () => (child.exitCode !== null ? `it exited\n${tail(node)}` : null) },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    stop,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown } };
      if (body.status !== "success") throw new Error(`Prometheus refused ${promql}: ${body.error}`);
      return body.data!.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    },
  };
}
