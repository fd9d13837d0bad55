import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface DrainOutcome {
  /** Requests under way when the drain began. */
  inFlight: number;
  /** Of those, the ones still unanswered when the grace ran out (their connections were cut). */
  cut: number;
}

/**
 * Lets a server's requests under way finish before the process stops, without taking new
 * ones: the listener closes (new connections are refused, so a load balancer moves on), idle
 * keep-alive connections close, a request that still arrives on an open connection is
 * answered 503 with `Connection: close`, and the answers under way close their connections.
 */
export class HttpDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;
  private settled: (() => void) | null = null;

  /** Call first for every request; false means it was answered already (the server is stopping). */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.draining) {
      refuse(req, res);
      return false;
    }
    this.inFlight.add(res);
    res.once("close", () => {
      this.inFlight.delete(res);
      if (this.inFlight.size === 0) this.settled?.();
    });
    return true;
  }

  /** Resolves once every request under way has been answered, or the grace is over, and the server is closed. */
  async drain(server: Server, graceMs: number): Promise<DrainOutcome> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const res of this.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const inFlight = this.inFlight.size;
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.settled = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    const cut = this.inFlight.size;
    // Nothing is under way any more (or the grace is over): what is still open is idle or late.
    server.closeAllConnections();
    await closed;
    return { inFlight, cut };
  }
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  // Read the body away so the answer is not stuck behind an unread upload.
  req.resume();
  res.shouldKeepAlive = false;
  res.writeHead(503, { "content-type": "application/json; charset=utf-8", "retry-after": "1" });
  res.end(
    JSON.stringify({
      name: "ServiceUnavailableError",
      message: "this server is stopping: retry in a moment",
      code: 503,
      type: "SHUTTING_DOWN",
    }),
  );
}
