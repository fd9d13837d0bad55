import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevIssuer } from "../../lib/auth/dev-issuer";
import { freePort } from "./free-port";

const ROOT = join(__dirname, "..", "..");

export interface ClusterNode {
  name: string;
  process: ChildProcess;
  output: string[];
  /** What it was started with (NODE_ID aside): `startNode(node.name, node.env)` starts it again. */
  env: Record<string, string>;
}

/**
 * Starts `bin/start.ts` as its own Node process, the way a container runs it (or another entry
 * point that starts the app, such as a test's fault-injecting one).
 */
export function startNode(name: string, env: Record<string, string>, script = "bin/start.ts"): ClusterNode {
  const child = spawn(join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", script], {
    cwd: ROOT,
    // The payment simulator on any free port unless a test names one: its default, PORT+1, may
    // be taken on a busy machine (the gateway's port is only free when it was picked).
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", YOOKASSA_SIMULATOR_PORT: "0", ...env, NODE_ID: name },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 400) output.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { name, process: child, output, env };
}

export async function stopNode(node: ClusterNode, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.process.once("exit", () => resolve()));
  node.process.kill(signal);
  const timer = setTimeout(() => node.process.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

export function tail(node: ClusterNode, lines = 40): string {
  return `--- ${node.name} ---\n` + node.output.join("").split("\n").slice(-lines).join("\n");
}

export interface Cluster {
  apiUrl: string;
  /** What every node got (plus its SERVICES); DATA_DIR holds the shared development issuer key. */
  env: Record<string, string> & { DATA_DIR: string; DEV_ISSUER: string };
  nodes: ClusterNode[];
  stop(): Promise<void>;
}

/**
 * Starts one `bin/start.ts` process per service group, as docker compose would, sharing the
 * development issuer's key, and waits until the gateway reports every node ready.
 */
export async function startCluster(groups: Record<string, string>, env: Record<string, string>): Promise<Cluster> {
  const port = await freePort();
  const full = {
    AUTH_MODE: "dev",
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    DATA_DIR: mkdtempSync(join(tmpdir(), "cluster-")),
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: "warn",
    ...env,
  };
  // Created once before the nodes start, so they all load the same key.
  const issuer = await loadOrCreateDevIssuer({ dataDir: full.DATA_DIR, issuer: full.DEV_ISSUER, audience: "ticketing-api" });
  // Readiness names the nodes to admins only.
  const admin = await issuer.mint({ sub: "cluster-start", roles: ["admin"] });
  const nodes = Object.entries(groups).map(([name, services]) =>
    startNode(name, { ...full, SERVICES: services, ...(services.split(",").includes("api") ? {} : { PORT: "0" }) }),
  );
  const apiUrl = `http://127.0.0.1:${port}/api`;
  const stop = async () => void (await Promise.all(nodes.map((n) => stopNode(n))));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${apiUrl}/ready`, { headers: { authorization: `Bearer ${admin}` } }).catch(() => null);
    if (ready?.ok && ((await ready.json()) as { nodes: unknown[] }).nodes.length === nodes.length) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the cluster did not get ready\n${nodes.map((n) => tail(n)).join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { apiUrl, env: full, nodes, stop };
}
