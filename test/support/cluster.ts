import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

export interface ClusterNode {
  name: string;
  process: ChildProcess;
  output: string[];
}

/** A free TCP port on loopback, for a process we are about to start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts `bin/start.ts` as its own Node process, the way a container runs it. */
export function startNode(name: string, env: Record<string, string>): ClusterNode {
  const child = spawn(join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", "bin/start.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, NODE_ID: name },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 400) output.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { name, process: child, output };
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
