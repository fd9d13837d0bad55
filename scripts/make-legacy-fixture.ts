/**
 * Makes test/fixtures/legacy-data-dir: the data directory of a real quick start written by the
 * store before SQLite (journals + NeDB files), for the test that migrates it.
 *
 * It only works on top of a commit from before the SQLite store: it was run on
 * e5b152917e0b89450e6ce3213597043c6c626c9c plus this script and lib/store/embedded/legacy-data.ts
 * (steps in test/fixtures/legacy-data-dir/README.md). On a later commit the quick start writes
 * store.sqlite, finds no journal to copy and the script stops, saying so.
 *
 * The sale is the smallest real one (test/support/first-sale.ts): a published event, a
 * customer whose profile is made by GET /api/me, three orders paid on the built-in YooKassa
 * simulator, one ticket checked in at the door. Its data is made up (ann@example.com).
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findLegacyData, readLegacyCollection } from "../lib/store/embedded/legacy-data";
import { apiClient, eventually } from "../test/support/api-client";
import { openSmallSale, type PlacedOrder } from "../test/support/first-sale";
import { devIssuerOf, startQuickStartProcess } from "../test/support/quickstart";

const FIXTURE = join(__dirname, "..", "test", "fixtures", "legacy-data-dir");
const EVENT_ID = "legacy-gig";

interface RunnerReport {
  runner: string;
  name: string;
  pos: number;
  head: number;
  generation?: number;
}

async function main(): Promise<void> {
  const node = await startQuickStartProcess("legacy-fixture");
  const { env } = node;
  const api = apiClient(node.apiUrl);
  try {
    const issuer = await devIssuerOf(env);
    const sale = await openSmallSale(api, issuer, EVENT_ID, 4);
    const me = await api<{ id: string }>("GET", "/me", { token: sale.customer });
    if (me.status !== 200) throw new Error(`GET /me: ${me.status}`);

    const orders: PlacedOrder[] = [];
    for (const quantity of [1, 2, 1]) {
      const order = await sale.buy(quantity);
      const paid = await fetch(`${order.payment!.confirmationUrl}/pay`, { method: "POST", redirect: "manual" });
      if (paid.status !== 303) throw new Error(`paying ${order.id}: ${paid.status}`);
      const settled = await eventually(
        () => api<PlacedOrder>("GET", `/orders/${order.id}`, { token: sale.customer }),
        (r) => r.body.status === "paid" && r.body.tickets.length === quantity,
      );
      orders.push(settled.body);
    }

    const door = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "org" });
    const admitted = orders[0].tickets[0];
    // The door reads tickets from their read model, a moment behind the payment.
    const checkin = await eventually(
      () => api("POST", "/checkin", { token: door, body: { barcode: admitted.barcode } }),
      (r) => r.status !== 404,
    );
    if (checkin.status !== 200) throw new Error(`check-in: ${checkin.status} ${JSON.stringify(checkin.body)}`);

    const ticketIds = orders.flatMap((o) => o.tickets.map((t) => t.id));
    const myTickets = await eventually(
      () => api<{ rows: Array<{ id: string; status: string }> }>("GET", "/me/tickets", { token: sale.customer }),
      (r) => r.body.rows.length === ticketIds.length && r.body.rows.some((t) => t.id === admitted.id && t.status === "used"),
    );
    // Every runner caught up, so the checkpoints saved at the stop are the log's heads.
    await eventually(
      () => api<{ status: string; nodes: Array<{ runners: RunnerReport[] }> }>("GET", "/ready", { token: sale.admin }),
      (r) => r.body.status === "ready" && r.body.nodes.every((n) => n.runners.every((x) => x.pos === x.head)),
    );
    await node.stop();

    const legacy = findLegacyData(env.DATA_DIR);
    if (legacy.logs.length === 0) throw new Error(`no journal in ${env.DATA_DIR}: this commit no longer writes the old store`);
    rmSync(FIXTURE, { recursive: true, force: true });
    mkdirSync(FIXTURE, { recursive: true });
    for (const file of [...legacy.logs, ...legacy.collections])
      copyFileSync(file.path, join(FIXTURE, file.path.split("/").pop()!));

    const heads: Record<string, number> = {};
    for (const log of legacy.logs) heads[log.name] = readFileSync(log.path, "utf8").split("\n").filter(Boolean).length;
    const checkpointsFile = legacy.collections.find((c) => c.name === "checkpoints");
    const checkpoints = checkpointsFile ? (await readLegacyCollection(checkpointsFile.path)).docs : [];
    const expected = {
      eventId: EVENT_ID,
      profileId: me.body.id,
      customerSub: "ann",
      orders: orders.map((o) => ({ id: o.id, status: o.status, tickets: o.tickets.map((t) => t.id) })),
      tickets: myTickets.body.rows.map((t) => ({ id: t.id, status: t.status })).sort((a, b) => a.id.localeCompare(b.id)),
      checkedIn: admitted.id,
      heads,
      checkpoints: Object.fromEntries(
        checkpoints
          .map((c) => c as unknown as { _id: string; pos: number; updatedAt: number })
          .sort((a, b) => a._id.localeCompare(b._id))
          .map((c) => [c._id, { pos: c.pos, updatedAt: c.updatedAt }]),
      ),
    };
    writeFileSync(join(FIXTURE, "EXPECTED.json"), JSON.stringify(expected, null, 2) + "\n");
    console.log(`wrote ${readdirSync(FIXTURE).length} files to ${FIXTURE}`);
  } finally {
    await node.stop();
    rmSync(env.DATA_DIR, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
