import { createServer, type Server } from "node:net";
import { ephemeralStart, freePort, portSlice } from "../../support/free-port";

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

describe("freePort", () => {
  test("hands out distinct ports of this worker's slice, all below the ephemeral range outgoing connections draw from", async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort());
    const { from, to } = portSlice();
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(from);
      expect(port).toBeLessThan(to);
      expect(port).toBeLessThan(ephemeralStart());
    }
    // Each can be listened on by the server it was picked for.
    const servers = await Promise.all(ports.slice(0, 20).map(listen));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  test("passes over ports something already listens on", async () => {
    const { from, to } = portSlice();
    // Listen on every even port of the slice: only odd ones may be handed out.
    const held: Server[] = [];
    for (let port = from + (from % 2); port < to; port += 2) {
      const server = await listen(port).catch(() => null);
      if (server) held.push(server);
    }
    try {
      for (let i = 0; i < 100; i++) expect((await freePort()) % 2).toBe(1);
    } finally {
      await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });
});
