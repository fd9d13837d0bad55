/**
 * A free TCP port on loopback for a server a test is about to start (a node's gateway, a Kafka
 * broker, Mailpit), possibly seconds later and again after a restart.
 *
 * Never one from listen(0): that comes from the kernel's ephemeral range, which every outgoing
 * connection on the machine draws from as well, so on a busy machine a client socket can hold
 * the port by the time a JVM gets round to binding it ("Address already in use"). Ports below
 * that range are only ever taken by a listener, and the probe bind sees those. Each Jest worker
 * draws from a slice of its own so two workers never hand out the same port, and a process
 * never hands out one port twice.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The lowest port handed out: clear of the registered ports most services listen on. */
const LOWEST = 10_000;
const SLICES = 16;

/** Where the kernel's ephemeral range starts (Linux), or the IANA start where it cannot be read. */
export function ephemeralStart(): number {
  try {
    const start = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(start) && start > LOWEST + SLICES * 64) return start;
  } catch {
    // not Linux
  }
  return 49_152;
}

/** This process's slice of [LOWEST, ephemeralStart()). */
export function portSlice(): { from: number; to: number } {
  const worker = Number(process.env.JEST_WORKER_ID ?? process.pid);
  const size = Math.floor((ephemeralStart() - LOWEST) / SLICES);
  const from = LOWEST + (worker % SLICES) * size;
  return { from, to: from + size };
}

const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const { from, to } = portSlice();
  const size = to - from;
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = from + ((offset + i) % size);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port left in ${from}-${to - 1}`);
}
