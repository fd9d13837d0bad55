/**
 * The benchmarks' HTTP client: node:http over a pool of keep-alive connections per origin, as
 * a load balancer in front of the service would hold them (buyers' own connections end at the
 * balancer). fetch opening one connection per simultaneous buyer measured the kernel's connection
 * setup more than the service: a bare Node server answered ~950 requests/s that way.
 */
import { Agent, request } from "node:http";

export const BENCH_CONNECTIONS = 128;

export interface Reply<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export function benchAgent(connections = BENCH_CONNECTIONS): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/** One request; a connection error comes back as status 0 with the error's message as its type. */
export function send<T>(
  agent: Agent,
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Reply<T | { type: string }>> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let body: T | { type: string };
        try {
          body = text ? (JSON.parse(text) as T) : ({} as T);
        } catch {
          body = { type: "NOT_JSON" };
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
      res.on("error", (err) => resolve({ status: 0, body: { type: err.message }, headers: {} }));
    });
    req.on("error", (err) => resolve({ status: 0, body: { type: err.message }, headers: {} }));
    req.end(payload);
  });
}
