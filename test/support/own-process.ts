/**
 * A server process of a test's own (a Kafka broker, a Mailpit) that the test may kill and
 * start again on the same ports and data: its log in `dir`, killed if the test process exits,
 * and `dir` removed when it is destroyed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface OwnProcessOptions {
  /** For messages: "Mailpit", "the broker". */
  name: string;
  /** Its working directory: the log goes here; removed by destroy(). */
  dir: string;
  command: string;
  args: string[];
  /** Whether it answers requests yet. */
  answers(): Promise<boolean>;
  timeoutMs: number;
  pollMs: number;
}

export interface OwnProcess {
  /** Starts it (again) and waits until it answers. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: a crash, the default; SIGTERM: a clean stop). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
  logTail(lines?: number): string;
}

export function ownProcess(options: OwnProcessOptions): OwnProcess {
  const { name, dir, timeoutMs } = options;
  const logFile = join(dir, "server.log");
  let child: ChildProcess | null = null;
  const kill = () => child?.kill("SIGKILL");
  process.once("exit", kill);

  const logTail = (lines = 40) => {
    try {
      return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };

  async function start(): Promise<void> {
    if (child) throw new Error(`${name} is running`);
    const out = openSync(logFile, "a");
    const started = spawn(options.command, options.args, { stdio: ["ignore", out, out] });
    closeSync(out);
    child = started;
    let exited = false;
    started.once("exit", () => {
      exited = true;
      if (child === started) child = null;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await options.answers())) {
      if (exited) throw new Error(`${name} exited during startup:\n${logTail()}`);
      if (Date.now() > deadline) throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  }

  async function stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    await exited;
  }

  return {
    start,
    stop,
    logTail,
    async destroy() {
      await stop("SIGKILL");
      process.removeListener("exit", kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
