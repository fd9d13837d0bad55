/**
 * The product as an organiser runs it: `bin/start.ts` (what `npm start` runs, with its Node
 * options) in a process of its own on a data directory, or `bin/repl.ts` (what `npm run repl`
 * runs: the same quick start with the admin console on its standard input). What the bench reads of it: readiness, the
 * resident memory of that very process, and the event-loop gauges of its METRICS_PORT.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stopNode, tail, type ClusterNode } from "../../test/support/cluster";
import { freePort } from "../../test/support/free-port";

const ROOT = join(__dirname, "..", "..");

/** Products still running: a bench that fails must not leave one behind holding its port and lock. */
const running = new Set<ClusterNode["process"]>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface ProductEnv extends Record<string, string> {
  DATA_DIR: string;
  DEV_ISSUER: string;
}

/** What the quick start needs to run beside a bench: its own ports, no rate limit on the load. */
export async function productEnv(dataDir: string): Promise<ProductEnv> {
  const port = await freePort();
  return {
    DATA_DIR: dataDir,
    DEV_ISSUER: "http://localhost:3000/dev-issuer",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    // Any free port: PORT + 1, the default, may be taken.
    YOOKASSA_SIMULATOR_PORT: "0",
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: "warn",
    // The load comes from one address: the per-client limit would answer 429 instead of measuring.
    RATE_LIMIT_PER_MINUTE: "0",
    // The load's unpaid orders on the hot event must not expire (and send their notices) mid-measurement.
    HOLD_TTL_SECONDS: "86400",
  };
}

/**
 * The Node options `npm start` / `npm run repl` give the product (package.json's scripts, e.g.
 * `node --max-semi-space-size=8 --import tsx bin/start.ts`), so the bench runs it the same way
 * while reading the RSS of the product's own process (npm would sit in between).
 */
export function npmNodeFlags(script: "start" | "repl"): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = pkg.scripts[script].split(/\s+/);
  if (words[0] === "tsx") return [];
  if (words[0] !== "node") throw new Error(`package.json's ${script} script runs ${words[0]}: the bench knows node and tsx`);
  const flags = words.slice(1, -1);
  const tsx = flags.findIndex((w, i) => w === "--import" && flags[i + 1] === "tsx");
  if (tsx >= 0) flags.splice(tsx, 2);
  return flags;
}

export interface Product {
  node: ClusterNode;
  pid: number;
  apiUrl: string;
  /** Milliseconds from the spawn until GET /api/ready first answered 200. */
  readyMs: number;
  /** Sends a line to the admin console (bin/repl.ts only). */
  command(line: string): void;
  /** Resident set size of the product's process now, in MB (VmRSS). */
  rssMb(): number;
  /** The gauges since the previous scrape (the scrape resets them): longest and p99 loop delay, ms. */
  loopDelay(): Promise<{ maxMs: number; p99Ms: number }>;
  stop(): Promise<number>;
}

export interface StartOptions {
  script?: "bin/start.ts" | "bin/repl.ts";
  /** Extra arguments for node (e.g. --cpu-prof). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export async function startProduct(env: ProductEnv, options: StartOptions = {}): Promise<Product> {
  const script = options.script ?? "bin/start.ts";
  const started = performance.now();
  const flags = npmNodeFlags(script === "bin/repl.ts" ? "repl" : "start");
  const child = spawn(join(ROOT, "node_modules/.bin/node"), [...flags, ...(options.nodeArgs ?? []), "--import", "tsx", script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, NODE_ID: "bench" },
    stdio: [script === "bin/repl.ts" ? "pipe" : "ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const node: ClusterNode = { name: script, process: child, output: [], env };
  const keep = (chunk: Buffer) => {
    node.output.push(chunk.toString());
    if (node.output.length > 400) node.output.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const apiUrl = `http://127.0.0.1:${env.PORT}/api`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30 * 60_000);
  for (;;) {
    const status = await fetch(`${apiUrl}/ready`).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    );
    if (status === 200) break;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const how =
        child.exitCode !== null
          ? `exited with ${child.exitCode}`
          : child.signalCode
            ? `killed by ${child.signalCode}`
            : "timed out";
      await stopNode(node);
      throw new Error(`the product did not get ready (last answer ${status}, ${how})\n${tail(node)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const readyMs = performance.now() - started;
  const metricsUrl = `http://127.0.0.1:${env.METRICS_PORT}/metrics`;
  return {
    node,
    pid: child.pid!,
    apiUrl,
    readyMs,
    command: (line) => child.stdin!.write(`${line}\n`),
    rssMb: () => rssMb(child.pid!),
    async loopDelay() {
      const text = await (await fetch(metricsUrl)).text();
      return {
        maxMs: gauge(text, "ticketing_eventloop_delay_max_seconds") * 1000,
        p99Ms: gauge(text, "ticketing_eventloop_delay_p99_seconds") * 1000,
      };
    },
    async stop() {
      const t0 = performance.now();
      await stopNode(node, "SIGTERM");
      return performance.now() - t0;
    },
  };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function gauge(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (!line) throw new Error(`the product's /metrics has no ${name}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}
