import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually } from "../support/api-client";
import { startNode, tail, type ClusterNode } from "../support/cluster";
import { freePort } from "../support/free-port";

const ROOT = join(__dirname, "..", "..");

/**
 * The real start script (bin/start.ts through tsx), stopped the way an orchestrator stops it:
 * requests under way are answered, the embedded store is closed (its write-ahead log folded in, LOCK
 * removed) and the process exits 0; a restart finds everything.
 */
describe("stopping the quick start with a signal", () => {
  const dirs: string[] = [];
  const running: ChildProcess[] = [];

  async function quickStart(extra: Record<string, string> = {}) {
    const port = await freePort();
    const env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), "graceful-stop-")),
      HOST: "127.0.0.1",
      PORT: String(port),
      // PORT + 1, the simulator's default, may be anybody's on a busy machine
      YOOKASSA_SIMULATOR_PORT: "0",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DEV_ISSUER: "http://localhost:3000/dev-issuer",
      LOG_LEVEL: "info",
      RUNNER_POLL_MS: "50",
      ...extra,
    };
    dirs.push(env.DATA_DIR);
    const issuer = await loadOrCreateDevIssuer({ dataDir: env.DATA_DIR, issuer: env.DEV_ISSUER, audience: "ticketing-api" });
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    return { env, port, admin, api: apiClient(`http://127.0.0.1:${port}/api`) };
  }

  /** Waits for what the process prints once it has started (and handles signals). */
  async function printed(node: ClusterNode, text: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (!node.output.join("").includes(text)) {
      if (node.process.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the process did not print "${text}" within 90 s\n${tail(node)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function started(name: string, env: Record<string, string>): Promise<ClusterNode> {
    const node = startNode(name, env);
    running.push(node.process);
    await printed(node, "Ticketing platform is up");
    return node;
  }

  function exited(node: ClusterNode, timeoutMs = 60_000): Promise<number | null> {
    const child = node.process;
    if (child.exitCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the process did not exit within ${timeoutMs} ms\n${tail(node)}`)),
        timeoutMs,
      );
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Resolves once the port refuses connections: the gateway has stopped taking new ones. */
  async function refusesConnections(port: number, node: ClusterNode): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      });
      if (refused) return;
      if (Date.now() > deadline) throw new Error(`port ${port} still takes connections 30 s after the signal\n${tail(node)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  interface Pending {
    request: ClientRequest;
    body: string;
    response: Promise<{ status: number; body: string }>;
  }

  /**
   * A POST whose body is still on its way: it returns once the server has taken the request
   * (it answered `100 Continue`, which Node does when it hands the request to the gateway).
   */
  async function requestUnderWay(port: number, token: string, path: string, payload: unknown): Promise<Pending> {
    const body = JSON.stringify(payload);
    const request = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: `/api${path}`,
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        expect: "100-continue",
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.once("error", reject);
      request.once("response", (res: IncomingMessage) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.once("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.once("error", reject);
      });
    });
    response.catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      request.once("continue", () => resolve());
      request.once("error", reject);
      request.flushHeaders();
    });
    request.write(body.slice(0, 5));
    return { request, body, response };
  }

  /** A clean close folds the write-ahead log into the database: nothing is left beside it. */
  function walLeftBehind(dataDir: string): string[] {
    return readdirSync(dataDir).filter((f) => f.endsWith("-wal") || f.endsWith("-shm"));
  }

  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test.each(["SIGTERM", "SIGINT"] as const)(
    "%s: the request under way is answered, the store is closed, exit 0, and a restart finds all data",
    async (signal) => {
      const { env, port, admin, api } = await quickStart();
      const first = await started("stop-1", env);
      const ids = ["org-1", "org-2", "org-3"];
      for (const id of ids) {
        expect((await api("POST", "/organizers", { token: admin, body: { id, name: id } })).status).toBe(201);
        // Each write moves the runners' checkpoints: writes the close folds into the database.
        await eventually(
          () => api("GET", `/organizers/${id}`),
          (r) => r.status === 200,
        );
      }
      const slow = await requestUnderWay(port, admin, "/organizers", { id: "org-late", name: "Late" });

      first.process.kill(signal);
      await refusesConnections(port, first);
      slow.request.end(slow.body.slice(5));
      const answer = await slow.response;
      expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toMatchObject({
        status: 201,
        body: { id: "org-late" },
      });
      expect(await exited(first)).toBe(0);
      expect(existsSync(join(env.DATA_DIR, "LOCK"))).toBe(false);
      expect(walLeftBehind(env.DATA_DIR)).toEqual([]);

      const second = await started("stop-2", env);
      const listed = await eventually(
        () => api<{ rows: Array<{ id: string }> }>("GET", "/organizers?pageSize=100"),
        (r) => r.status === 200 && r.body.rows.length >= ids.length + 1,
      );
      expect(listed.body.rows.map((o) => o.id).sort()).toEqual([...ids, "org-late"].sort());
      second.process.kill(signal === "SIGTERM" ? "SIGINT" : "SIGTERM");
      expect(await exited(second)).toBe(0);
      expect(existsSync(join(env.DATA_DIR, "LOCK"))).toBe(false);
    },
    240_000,
  );

  test("a request that does not finish within SHUTDOWN_GRACE_MS is cut, and the stop still completes", async () => {
    const { env, port, admin } = await quickStart({ SHUTDOWN_GRACE_MS: "500" });
    const node = await started("stop-grace", env);
    const stuck = await requestUnderWay(port, admin, "/organizers", { id: "org-stuck", name: "Stuck" });
    node.process.kill("SIGTERM");
    await expect(stuck.response).rejects.toThrow();
    expect(await exited(node)).toBe(0);
    expect(existsSync(join(env.DATA_DIR, "LOCK"))).toBe(false);
  }, 180_000);

  test("a second signal exits at once, without waiting for the requests under way", async () => {
    // The grace outlasts the test: only the second signal can end this process in time.
    const { env, port, admin } = await quickStart({ SHUTDOWN_GRACE_MS: "600000" });
    const node = await started("stop-forced", env);
    const stuck = await requestUnderWay(port, admin, "/organizers", { id: "org-stuck", name: "Stuck" });
    node.process.kill("SIGTERM");
    await refusesConnections(port, node);
    node.process.kill("SIGTERM");
    expect(await exited(node, 30_000)).toBe(1);
    await expect(stuck.response).rejects.toThrow();
  }, 180_000);

  test("the REPL's quick start closes its store on SIGTERM and on quit", async () => {
    for (const stop of ["SIGTERM", "quit"] as const) {
      const { env } = await quickStart();
      const child = spawn(join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", "bin/repl.ts"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: env.DATA_DIR, ...env, NODE_ID: `repl-${stop}` },
        stdio: ["pipe", "pipe", "pipe"],
      });
      running.push(child);
      const node: ClusterNode = { name: `repl-${stop}`, process: child, output: [], env };
      child.stdout!.on("data", (chunk: Buffer) => node.output.push(chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => node.output.push(chunk.toString()));
      await printed(node, "ticketing $");
      expect(existsSync(join(env.DATA_DIR, "LOCK"))).toBe(true);
      if (stop === "SIGTERM") child.kill("SIGTERM");
      else child.stdin!.write("quit\n");
      expect(await exited(node)).toBe(0);
      expect(existsSync(join(env.DATA_DIR, "LOCK"))).toBe(false);
    }
  }, 240_000);
});
