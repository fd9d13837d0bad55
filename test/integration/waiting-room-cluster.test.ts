import { randomUUID } from "node:crypto";
import { apiClient } from "../support/api-client";
import { startCluster, startNode, stopNode, type Cluster } from "../support/cluster";
import { loadInfra, mongoServerUri } from "../support/infra";
import type { PlaceAnswer } from "../../services/waiting-room/waiting-room.service";
import { openGaSale } from "../support/ga-sale";
import { devIssuerOf } from "../support/quickstart";
import { waitFor } from "../support/wait";

type Place = PlaceAnswer;

const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

jest.setTimeout(180_000);

/**
 * The waiting room distributed: its queue on a node of its own, reached from the gateway and
 * the orders over NATS (sharded calls), storage on the MongoDB protocol; the place survives a
 * restart of that node.
 */
describe("waiting room over NATS and the MongoDB protocol", () => {
  const infra = loadInfra(["nats", "mongo"]);
  const run = randomUUID().slice(0, 8);
  let cluster: Cluster;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    cluster = await startCluster(
      {
        gateway: "api,runners",
        sales: "organizers,artists,venues,events,inventory,orders,tickets,users,runners",
        room: "waitingRoom,runners",
      },
      {
        TRANSPORTER: infra.natsUrl,
        NAMESPACE: `room-${run}`,
        MONGO_URI: mongoServerUri("mongo", `room_${run}`),
        RUNNER_POLL_MS: "200",
      },
    );
    api = apiClient(cluster.apiUrl);
  });
  afterAll(async () => cluster?.stop(), 30_000);

  test("a buyer joins through the gateway, keeps the place across a restart of the queue's node, is admitted and orders", async () => {
    const issuer = await devIssuerOf(cluster.env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    const bob = await issuer.mint({ sub: "bob", roles: ["customer"] });
    // Right after start the gateway may not see every service yet: it answers 503, and a client retries.
    await waitFor(
      "the organizer created",
      () => api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } }),
      (r) => r.status === 201 || r.status === 409,
      WAIT,
    );
    const olga = await openGaSale(api, issuer, 10);
    const room = { opensAt: new Date(Date.now() + 3_600_000).toISOString(), rate: 20 };
    expect((await api("PUT", "/events/show/waiting-room", { token: olga, body: room })).status).toBe(200);

    const joined = await waitFor(
      "a place",
      () => api<Place>("POST", "/events/show/queue", { token: ann }),
      (r) => r.status === 200,
      WAIT,
    );
    expect(joined.body).toMatchObject({ status: "waiting", position: null });
    expect((await api<Place>("POST", "/events/show/queue", { token: bob })).status).toBe(200);

    const index = cluster.nodes.findIndex((n) => n.name === "room");
    const node = cluster.nodes[index];
    await stopNode(node);
    cluster.nodes[index] = startNode(node.name, node.env);
    await waitFor(
      "the place back after the restart",
      () => api<Place>("GET", "/events/show/queue", { token: ann }),
      (r) => r.status === 200 && r.body.status === "waiting",
      WAIT,
    );

    expect((await api("PUT", "/events/show/waiting-room", { token: olga, body: { ...room, opensAt: Date.now() } })).status).toBe(
      200,
    );
    const admitted = await waitFor(
      "ann admitted",
      () => api<Place>("GET", "/events/show/queue", { token: ann }),
      (r) => r.body.status === "admitted",
      WAIT,
    );
    const buy = (admissionToken?: string) =>
      api<{ status: string; type?: string }>("POST", "/orders", {
        token: ann,
        body: {
          eventId: "show",
          items: [{ categoryId: "floor", quantity: 1 }],
          customer: { email: "ann@example.com", phone: "+79001234567" },
          ...(admissionToken ? { admissionToken } : {}),
        },
      });
    expect((await buy()).body.type).toBe("ADMISSION_REQUIRED");
    const order = await buy(admitted.body.admission!.token);
    expect(order.status).toBe(201);
    expect(order.body.status).toBe("awaiting_payment");
    // Both places, in the order drawn at the start.
    const positions = await Promise.all(
      [ann, bob].map(async (token) => (await api<Place>("GET", "/events/show/queue", { token })).body.position),
    );
    expect([...positions].sort()).toEqual([1, 2]);
  });
});
