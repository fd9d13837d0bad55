import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpDrain } from "../../lib/app/http-drain";
import { eventually } from "../support/api-client";

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** A server whose requests wait until the test lets them go, over real sockets on loopback. */
async function heldServer(): Promise<{ server: Server; port: number; drain: HttpDrain; release(): void; held(): number }> {
  const drain = new HttpDrain();
  const waiting: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!drain.admit(req, res)) return;
    req.resume();
    waiting.push(res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const release = () => {
    for (const res of waiting.splice(0)) res.end("done");
  };
  return { server, port: (server.address() as AddressInfo).port, drain, release, held: () => waiting.length };
}

/** A client that keeps its connections open, as browsers and load balancers do. */
const keepAlive = new Agent({ keepAlive: true });
afterAll(() => keepAlive.destroy());

function get(port: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: keepAlive }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.once("error", reject);
    req.end();
  });
}

describe("HttpDrain", () => {
  test("answers the requests under way with Connection: close, refuses new connections, then closes", async () => {
    const { server, port, drain, release, held } = await heldServer();
    const underWay = [get(port), get(port)];
    // Both requests have reached the server.
    await eventually(
      async () => held(),
      (n) => n === 2,
    );

    const drained = drain.drain(server, 60_000);
    await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    release();
    const answers = await Promise.all(underWay);
    expect(answers).toEqual([
      { status: 200, connection: "close", body: "done" },
      { status: 200, connection: "close", body: "done" },
    ]);
    await expect(drained).resolves.toEqual({ inFlight: 2, cut: 0 });
    expect(server.listening).toBe(false);
  });

  test("cuts what is still unanswered when the grace is over", async () => {
    const { server, port, drain, held } = await heldServer();
    const stuck = get(port);
    await eventually(
      async () => held(),
      (n) => n === 1,
    );
    await expect(drain.drain(server, 100)).resolves.toEqual({ inFlight: 1, cut: 1 });
    await expect(stuck).rejects.toMatchObject({ code: "ECONNRESET" });
  });
});
