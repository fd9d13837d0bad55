/** The table bench:embedded-scale prints for one size, with issue 11's goals beside the figures. */
import type { RouteFigures } from "./load";
import type { RebuildFigures } from "./rebuild";

export interface ScaleFigures {
  orders: number;
  httpOrders: number;
  archiveEvents: number;
  /** Commits of the sales log at the end (its head). */
  salesCommits: number;
  diskMb: number;
  /** Of which the store's files (store.sqlite and its WAL); the rest is mostly the receipts' e-mails. */
  storeMb: number;
  historyWriteMs: number | null;
  catchUpStartMs: number | null;
  /** Start of the product on an empty data directory: what any start costs (Node, tsx, services). */
  /** Null when resumed on a grown data directory. */
  emptyStartMs: number | null;
  /** RSS of the product just started on an empty data directory. */
  emptyRssMb: number | null;
  restarts: Array<{ stopMs: number; readyMs: number }>;
  idleRssMb: number;
  loadRssMb: number;
  /** Longest loop stall and p99 from the (last) start until the load began. */
  startupStall: { maxMs: number; p99Ms: number };
  loadStall: { maxMs: number; p99Ms: number };
  /** After the load, an idle window longer than the periodic sweeps' interval. */
  idleStall: { maxMs: number; p99Ms: number };
  idleRssMax: number;
  load: RouteFigures[];
  /** The machine's 1-minute load average, highest seen during the load (other programs included). */
  loadAverage: number;
  rebuild: RebuildFigures;
}

interface Goals {
  restartMs?: number;
  rssMb?: number;
  stallMs?: number;
  rebuildMs?: number;
}

/** Issue 11: at 50k restart ≤ 2 s, RSS ≤ 300 MB, no stall over 50 ms, rebuild ≤ 10 s; at 1M restart ≤ 3 s, RSS ≤ 400 MB. */
function goalsFor(orders: number): Goals {
  if (orders >= 1_000_000) return { restartMs: 3000, rssMb: 400 };
  if (orders >= 50_000) return { restartMs: 2000, rssMb: 300, stallMs: 50, rebuildMs: 10_000 };
  return {};
}

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);

function verdict(value: number, goal: number | undefined, unit: string): string {
  if (goal === undefined) return "";
  return `${value <= goal ? "PASS" : "FAIL"} (goal ≤ ${goal} ${unit})`;
}

export function printReport(r: ScaleFigures): void {
  const g = goalsFor(r.orders);
  const restart = Math.max(...r.restarts.map((x) => x.readyMs));
  const rss = Math.max(r.idleRssMb, r.loadRssMb, r.idleRssMax);
  const stall = Math.max(r.loadStall.maxMs, r.idleStall.maxMs, r.rebuild.stall.maxMs);
  const rows: Array<[string, string, string]> = [
    ["paid orders (over HTTP)", `${r.orders} (${r.httpOrders})`, ""],
    ["sales log commits", String(r.salesCommits), ""],
    ["size of DATA_DIR (of which store.sqlite*)", `${f1(r.diskMb)} MB (${f1(r.storeMb)} MB)`, ""],
    [
      "history written directly / catch-up start",
      `${r.historyWriteMs === null ? "-" : `${f1(r.historyWriteMs / 1000)} s`} / ${r.catchUpStartMs === null ? "-" : `${f1(r.catchUpStartMs / 1000)} s`}`,
      "",
    ],
    [
      "start on an empty DATA_DIR (Node + tsx + services), RSS",
      r.emptyStartMs === null ? "- (resumed)" : `${f0(r.emptyStartMs)} ms, ${f0(r.emptyRssMb!)} MB`,
      "",
    ],
    [
      "restart until /api/ready = 200 (SIGTERM took)",
      r.restarts.map((x) => `${f0(x.readyMs)} ms (${f0(x.stopMs)})`).join(", "),
      verdict(restart, g.restartMs, "ms"),
    ],
    [
      "RSS after restart / max under load / max idle after",
      `${f0(r.idleRssMb)} / ${f0(r.loadRssMb)} / ${f0(r.idleRssMax)} MB`,
      verdict(rss, g.rssMb, "MB"),
    ],
    [
      "rebuild of sales.orders (REPL), RSS",
      `${f0(r.rebuild.ms)} ms, ${f0(r.rebuild.rssMb)} MB`,
      verdict(r.rebuild.ms, g.rebuildMs, "ms"),
    ],
    ...r.load.map((l): [string, string, string] => [
      `${l.route}`,
      `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms, ${l.perSecond}/s${Object.keys(l.errors).length ? `, errors ${JSON.stringify(l.errors)}` : ""}`,
      "",
    ]),
    [
      "longest loop stall: start→load / load / idle / rebuild",
      `${f0(r.startupStall.maxMs)} / ${f0(r.loadStall.maxMs)} / ${f0(r.idleStall.maxMs)} / ${f0(r.rebuild.stall.maxMs)} ms`,
      verdict(stall, g.stallMs, "ms"),
    ],
    ["machine load average during the load (all programs)", f1(r.loadAverage), ""],
    [
      "loop delay p99: load / idle / rebuild",
      `${f0(r.loadStall.p99Ms)} / ${f0(r.idleStall.p99Ms)} / ${f0(r.rebuild.stall.p99Ms)} ms`,
      "",
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log(`\n== embedded store at ${r.orders} paid orders ==`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd());
  console.log();
}
