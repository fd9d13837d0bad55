import { startApp, type App } from "../../lib/app/app";
import { projectionsCommand } from "../../lib/repl/projections.command";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually } from "../support/api-client";

async function adminToken(env: ReturnType<typeof quickStartEnv>): Promise<string> {
  return (await devIssuerOf(env)).mint({ sub: "ops", roles: ["admin"] });
}

describe("operating the cluster: readiness, the REPL, rebuilds", () => {
  let app: App | null = null;
  afterEach(async () => {
    await app?.stop();
    app = null;
  });

  test("a poison event halts its projections, and /api/ready and the REPL say where and why", async () => {
    const env = quickStartEnv("ops", { LOG_LEVEL: "fatal" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    // Ready once every runner has started (a busy machine takes a moment after the start).
    await eventually(
      () => api("GET", "/ready"),
      (r) => r.status === 200,
    );

    // A commit the projections cannot apply (as a bug or a bad migration would leave).
    const { commit } = await app.runtime.store
      .log("catalogue")
      .append({ stream: "organizer-broken", expectedSeq: 0, events: [{ type: "OrganizerUpdated", data: null }] });
    app.runtime.runners.wake("catalogue");

    const token = await adminToken(env);
    const ready = await eventually(
      () => api<{ status: string; problems: string[] }>("GET", "/ready", { token }),
      (r) => r.status === 503,
    );
    expect(ready.body.status).toBe("not_ready");
    expect(ready.body.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`catalogue.organizers@g1 .* halted at ${commit.pos}`))]),
    );

    const table = await projectionsCommand(app.broker, {});
    expect(table).toMatch(
      new RegExp(`catalogue\\.organizers@g1\\s+halted\\s+${commit.pos - 1}\\s+${commit.pos}\\s+1\\s+halted at ${commit.pos}`),
    );
    // Other projections that do not read this event keep going.
    expect(table).toMatch(/catalogue\.artists@g1\s+idle/);
  });

  test("a rebuild from the REPL fills a new generation and the queries switch to it", async () => {
    const env = quickStartEnv("ops", { LOG_LEVEL: "fatal" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    const token = await adminToken(env);
    for (const name of ["Alpha Live", "Beta Shows", "Gamma Events"]) {
      expect((await api("POST", "/organizers", { token, body: { name } })).status).toBe(201);
    }

    const answer = await projectionsCommand(app.broker, { action: "rebuild", name: "catalogue.organizers" });
    expect(answer).toMatch(/generation 2/);
    await eventually(
      () => projectionsCommand(app!.broker, {}),
      (t) => /catalogue\.organizers@g2\s+idle/.test(t) && !/catalogue\.organizers@g1/.test(t),
    );

    // Queries read the new generation: emptying the old one changes nothing for clients.
    await app.runtime.store.collection("organizers_g1").deleteMany({});
    const list = await api<{ rows: Array<{ name: string }>; total: number }>("GET", "/organizers?sort=name&select=name");
    expect(list.body.rows).toEqual([{ name: "Alpha Live" }, { name: "Beta Shows" }, { name: "Gamma Events" }]);
    expect((await api("POST", "/organizers", { token, body: { name: "Delta" } })).status).toBe(201);
    expect((await api<{ total: number }>("GET", "/organizers")).body.total).toBe(4);

    expect(await projectionsCommand(app.broker, { action: "rebuild", name: "nothing" })).toMatch(/no node hosts nothing/);
    expect((await api("GET", "/organizers?select=name,password")).status).toBe(422);
    expect((await api("GET", "/organizers?fields=name")).status).toBe(422);
  });

  type ReadyBody = { status: string; problems?: string[]; nodes?: unknown[] };

  test("/api/ready tells anonymous callers and non-admins the status only; admins get the details", async () => {
    const env = quickStartEnv("ops", { LOG_LEVEL: "fatal" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    const organizer = await (await devIssuerOf(env)).mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    await eventually(
      () => api<ReadyBody>("GET", "/ready"),
      (r) => r.status === 200,
    );
    expect((await api("GET", "/ready")).body).toEqual({ status: "ready" });
    expect((await api("GET", "/ready", { token: organizer })).body).toEqual({ status: "ready" });
    const details = await api<ReadyBody>("GET", "/ready", { token: await adminToken(env) });
    expect(details.body).toMatchObject({ status: "ready", problems: [], nodes: [expect.objectContaining({ notStarted: [] })] });
  });

  test("not ready while a runner is more than READY_MAX_LAG commits behind its log's head", async () => {
    // Runners poll once in 10 minutes: they move only when woken, so the test decides when.
    const env = quickStartEnv("ops", { LOG_LEVEL: "fatal", RUNNER_POLL_MS: "600000", READY_MAX_LAG: "2" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    const token = await adminToken(env);
    await eventually(
      () => api<ReadyBody>("GET", "/ready", { token }),
      (r) => r.status === 200,
    );

    // Commits no catalogue runner has a use for, appended without waking anyone.
    const log = app.runtime.store.log("catalogue");
    for (let i = 0; i < 3; i++)
      await log.append({ stream: `probe-${i}`, expectedSeq: 0, events: [{ type: "ProbeNoted", data: {} }] });
    const behind = await api<ReadyBody>("GET", "/ready", { token });
    expect([behind.status, behind.body.status]).toEqual([503, "not_ready"]);
    expect(behind.body.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/runner catalogue\.organizers@g1 on .* is 3 commits behind \(READY_MAX_LAG 2\)/),
      ]),
    );
    expect((await api("GET", "/ready")).body).toEqual({ status: "not_ready" });

    app.runtime.runners.wake("catalogue");
    await eventually(
      () => api<ReadyBody>("GET", "/ready", { token }),
      (r) => r.status === 200,
    );
  });

  test("not ready while a service this node runs has not started", async () => {
    const env = quickStartEnv("ops", { LOG_LEVEL: "fatal" });
    app = await startApp(env);
    const api = apiClient(app.apiUrl!);
    const token = await adminToken(env);
    await eventually(
      () => api<ReadyBody>("GET", "/ready", { token }),
      (r) => r.status === 200,
    );
    await app.broker.destroyService(app.broker.getLocalService("tickets")!);
    const ready = await api<ReadyBody>("GET", "/ready", { token });
    expect([ready.status, ready.body.status]).toEqual([503, "not_ready"]);
    expect(ready.body.problems).toEqual([expect.stringMatching(/not started: tickets$/)]);
  });
});
