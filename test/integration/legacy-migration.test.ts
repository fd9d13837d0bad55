import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOGS } from "../../lib/app/runtime";
import type { CheckpointDoc } from "../../lib/eventlog/checkpoints";
import { PROJECTIONS, type ProjectionMeta } from "../../lib/eventlog/projection-host";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { apiClient, eventually } from "../support/api-client";
import { startNode, stopNode, tail } from "../support/cluster";
import { devIssuerOf, quickStartEnv, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";

/** What the quick start showed before its store moved to SQLite (see the fixture's README). */
interface Expected {
  eventId: string;
  profileId: string;
  customerSub: string;
  orders: Array<{ id: string; status: string; tickets: string[] }>;
  tickets: Array<{ id: string; status: string }>;
  checkedIn: string;
  heads: Record<string, number>;
  checkpoints: Record<string, { pos: number; updatedAt: number }>;
}

interface RunnerReport {
  name: string;
  pos: number;
  head: number;
  state: string;
  generation?: number;
}

const FIXTURE = join(__dirname, "..", "fixtures", "legacy-data-dir");
/** The read model whose documents changed since the fixture was made (ordersProjection.version). */
const REBUILT = "sales.orders";
const expected = JSON.parse(readFileSync(join(FIXTURE, "EXPECTED.json"), "utf8")) as Expected;
const STORE_FILES = readdirSync(FIXTURE).filter((f) => f.endsWith(".commits.jsonl") || f.endsWith(".db"));

/** A data directory holding a copy of the fixture's store files. */
function legacyDataDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  for (const file of STORE_FILES) cpSync(join(FIXTURE, file), join(dir, file));
  return dir;
}

function bytesOf(dir: string, files: string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), "base64")]));
}

const outputOf = (node: QuickStartProcess) => node.node.output.join("");

describe("a data directory of the store before SQLite is migrated on its first start", () => {
  let node: QuickStartProcess | undefined;
  afterEach(async () => node?.stop());

  test("progress shown, everything a user had is served, projections carry on where they were, the old files kept aside", async () => {
    const dataDir = legacyDataDir("legacy-migration");
    const original = bytesOf(dataDir, STORE_FILES);
    node = await startQuickStartProcess("legacy-migration", { DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const api = apiClient(node.apiUrl);
    const issuer = await devIssuerOf(node.env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const ann = await issuer.mint({ sub: expected.customerSub, roles: ["customer"] });

    const output = outputOf(node);
    expect(output).toContain(`migrating the data directory ${dataDir} to the SQLite store: 4 event logs and`);
    for (const log of Object.keys(expected.heads)) expect(output).toContain(`event log ${log}: ${log}.commits.jsonl (`);
    expect(output).toContain("collection checkpoints: checkpoints.db (");
    expect(output).toMatch(/migration done; the old store files \(\d+\) are kept in .*legacy-.* and can be deleted/);

    // Right after the start every runner stands where it stood before the migration: at the
    // head, with nothing to read again. A runner started from 0 would show here only once it
    // had caught up, so its checkpoint's updatedAt (below) tells that apart.
    const ready = await api<{ status: string; nodes: Array<{ runners: RunnerReport[] }> }>("GET", "/ready", { token: admin });
    expect(ready.body.status).toBe("ready");
    const runners = ready.body.nodes.flatMap((n) => n.runners);
    // Runners added after the fixture was made start at 0 and are not its business; the rebuilt
    // read model's old generation may be retired already (a rebuild of the fixture takes moments).
    expect(Object.fromEntries(runners.map((r) => [r.name, r.pos]))).toMatchObject(
      Object.fromEntries(
        Object.entries(expected.checkpoints)
          .filter(([name]) => !name.startsWith(`${REBUILT}@`))
          .map(([name, cp]) => [name, cp.pos]),
      ),
    );
    for (const r of runners.filter((r) => !r.name.startsWith(`${REBUILT}@`))) expect(r.pos).toBe(r.head);

    // What a user had is served as before: from the log (an order, a profile) and from read models.
    const event = await api<{ status: string; availability: Record<string, { available: number }> }>(
      "GET",
      `/events/${expected.eventId}`,
    );
    expect(event.status).toBe(200);
    expect(event.body.status).toBe("on_sale");
    expect(event.body.availability.floor.available).toBe(0);
    expect((await api<{ id: string }>("GET", "/me", { token: ann })).body.id).toBe(expected.profileId);
    expect((await api<{ id: string }>("GET", `/users/${expected.profileId}`, { token: admin })).body.id).toBe(expected.profileId);
    for (const order of expected.orders) {
      const got = await api<{ status: string; tickets: Array<{ id: string }> }>("GET", `/orders/${order.id}`, { token: ann });
      expect(got.body.status).toBe(order.status);
      expect(got.body.tickets.map((t) => t.id)).toEqual(order.tickets);
    }
    const mine = await api<{ rows: Array<{ id: string; status: string }> }>("GET", "/me/orders", { token: ann });
    expect(mine.body.rows.map((o) => ({ id: o.id, status: o.status })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      expected.orders.map((o) => ({ id: o.id, status: o.status })).sort((a, b) => a.id.localeCompare(b.id)),
    );
    const tickets = await api<{ rows: Array<{ id: string; status: string; barcode: string }> }>("GET", "/me/tickets", {
      token: ann,
    });
    expect(tickets.body.rows.map((t) => ({ id: t.id, status: t.status })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      expected.tickets,
    );
    // The door remembers who came in.
    const door = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "org" });
    const used = tickets.body.rows.find((t) => t.id === expected.checkedIn)!;
    const again = await api("POST", "/checkin", { token: door, body: { barcode: used.barcode } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe("TICKET_ALREADY_USED");
    await node.stop();

    // Only the orders read model is rebuilt: its documents gained fields since (its version 2).
    const rebuilt = outputOf(node)
      .split("\n")
      .filter((line) => line.includes("rebuilding into generation"));
    expect(rebuilt.every((line) => line.includes(`projection ${REBUILT}:`))).toBe(true);
    // No e-mail went out again (the quick start writes them under DATA_DIR/mail; the fixture has none).
    expect(readdirSync(dataDir)).not.toContain("mail");
    const store = await EmbeddedStore.open({ dataDir, logs: [...LOGS] });
    try {
      // Nothing was appended, and no runner moved or started over.
      for (const [log, head] of Object.entries(expected.heads)) expect(await store.log(log).head()).toBe(head);
      const checkpoints = await store.collection<CheckpointDoc>("checkpoints").find({});
      const kept = Object.fromEntries(Object.entries(expected.checkpoints).filter(([name]) => !name.startsWith(`${REBUILT}@`)));
      expect(Object.fromEntries(checkpoints.map((c) => [c._id, { pos: c.pos, updatedAt: c.updatedAt }]))).toMatchObject(kept);
      const projections = await store.collection<ProjectionMeta>(PROJECTIONS).find({});
      expect(projections.length).toBeGreaterThan(0);
      for (const p of projections) {
        if (p._id === REBUILT) expect(p.version === 2 || p.rebuilding === 2).toBe(true);
        else
          expect({ id: p._id, generation: p.generation, rebuilding: p.rebuilding }).toEqual({
            id: p._id,
            generation: 1,
            rebuilding: null,
          });
      }
    } finally {
      await store.close();
    }

    // The old files are kept, as they were, out of the way.
    const legacyDirs = readdirSync(dataDir).filter((f) => f.startsWith("legacy-"));
    expect(legacyDirs).toHaveLength(1);
    expect(bytesOf(join(dataDir, legacyDirs[0]), STORE_FILES)).toEqual(original);
    expect(readdirSync(dataDir).filter((f) => STORE_FILES.includes(f))).toEqual([]);

    // A second start opens the database: nothing is migrated again.
    node = await startQuickStartProcess("legacy-migration", { DATA_DIR: dataDir, LOG_LEVEL: "info" });
    expect(outputOf(node)).not.toContain("migrating the data directory");
    expect(outputOf(node)).not.toContain("migration done");
    const order = expected.orders[0];
    expect((await apiClient(node.apiUrl)<{ status: string }>("GET", `/orders/${order.id}`, { token: ann })).body.status).toBe(
      order.status,
    );
    expect(readdirSync(dataDir).filter((f) => f.startsWith("legacy-"))).toEqual(legacyDirs);
  }, 180_000);

  test("a corrupt journal stops the start with the file and line, and changes nothing a later start could mistake for done", async () => {
    const dataDir = legacyDataDir("legacy-corrupt");
    const journal = join(dataDir, "sales.commits.jsonl");
    const good = readFileSync(journal, "utf8");
    const lines = good.split("\n");
    lines[9] = lines[9].slice(0, 30);
    writeFileSync(journal, lines.join("\n"));
    const before = bytesOf(dataDir, STORE_FILES);

    const env = quickStartEnv("legacy-corrupt", { DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const failed = startNode("legacy-corrupt", env);
    await eventually(
      async () => failed.process.exitCode,
      (code) => code !== null,
      60_000,
    );
    expect(failed.process.exitCode).toBe(1);
    expect(tail(failed, 400)).toContain(
      `could not migrate the data directory ${dataDir} to the SQLite store (its files were left as they were): ` +
        `${journal}: line 10 is not valid JSON and is not the last line`,
    );
    await stopNode(failed);
    expect(bytesOf(dataDir, STORE_FILES)).toEqual(before);
    // Only the old files: no database, whole or half-made, and nothing moved aside.
    expect(
      readdirSync(dataDir)
        .filter((f) => f !== "dev-issuer")
        .sort(),
    ).toEqual([...STORE_FILES].sort());

    // Repaired (and with the leftovers of an import that was killed half-way), it migrates.
    writeFileSync(journal, good);
    writeFileSync(join(dataDir, "store.sqlite.migrating"), "half an import");
    node = await startQuickStartProcess("legacy-corrupt", { DATA_DIR: dataDir, LOG_LEVEL: "info" });
    expect(outputOf(node)).toContain("migration done");
    expect(existsSync(join(dataDir, "store.sqlite.migrating"))).toBe(false);
    const ann = await (await devIssuerOf(node.env)).mint({ sub: expected.customerSub, roles: ["customer"] });
    const mine = await apiClient(node.apiUrl)<{ rows: Array<{ id: string }> }>("GET", "/me/orders", { token: ann });
    expect(mine.body.rows.map((o) => o.id).sort()).toEqual(expected.orders.map((o) => o.id).sort());
  }, 180_000);
});
