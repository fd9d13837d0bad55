import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { apiClient } from "../support/api-client";
import { devIssuerOf, startQuickStartProcess, type QuickStartProcess } from "../support/quickstart";

const run = promisify(execFile);
const ROOT = join(__dirname, "../..");

interface EventsPage {
  total: number;
  rows: Array<{ id: string; status: string; categories: Array<{ id: string; price: number; capacity: number }> }>;
}

/** `npm run demo` against a real quick start: a catalogue appears, and a second run changes nothing. */
describe("npm run demo", () => {
  let node: QuickStartProcess;
  beforeAll(async () => {
    node = await startQuickStartProcess("demo");
  });
  afterAll(async () => node?.stop());

  const demo = () =>
    run(join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", "bin/demo.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...node.env },
    });

  test("fills an empty quick start with organizers, seated venues and published events; a second run changes nothing", async () => {
    const api = apiClient(node.apiUrl);
    const admin = await (await devIssuerOf(node.env)).mint({ roles: ["admin"] });
    const catalogue = async () => ({
      organizers: (await api("GET", "/organizers?pageSize=100", { token: admin })).body,
      venues: (await api("GET", "/venues?pageSize=100", { token: admin })).body,
      events: (await api<EventsPage>("GET", "/events?pageSize=100")).body,
    });
    expect((await catalogue()).events.total).toBe(0);

    const first = await demo();
    expect(first.stdout).toMatch(/^made {3}organizer vibe-concerts: Vibe Concerts$/m);
    expect(first.stdout).toMatch(/^made {3}venue nevsky-hall: Nevsky Concert Hall, Saint Petersburg \(228 seats\)$/m);
    expect(first.stdout).toMatch(/^made {3}publication of ural-rock-fest$/m);

    const filled = await catalogue();
    expect(filled.organizers).toMatchObject({ total: 3 });
    expect(filled.venues).toMatchObject({ total: 3 });
    expect(filled.events.total).toBe(4);
    expect(filled.events.rows.every((e) => e.status === "on_sale")).toBe(true);
    const jazz = filled.events.rows.find((e) => e.id === "moscow-quartet")!;
    // Prices in kopecks: 3500.00 RUB for the stalls, every seat of the section on sale.
    expect(jazz.categories).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: "stalls", price: 350000, capacity: 72 })]),
    );

    const second = await demo();
    expect(second.stdout).not.toMatch(/^made/m);
    expect(second.stdout).toContain("nothing changed");
    expect(await catalogue()).toEqual(filled);
  });
});
