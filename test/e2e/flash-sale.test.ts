import { randomUUID } from "node:crypto";
import { fold } from "../../lib/eventlog/decider";
import { MongoStore } from "../../lib/store/mongo/mongo-store";
import { availability, inventoryDecider } from "../../services/inventory/inventory.decider";
import type { EventStockDoc } from "../../services/inventory/inventory.projection";
import { orderDecider } from "../../services/orders/orders.decider";
import type { Order } from "../../services/orders/orders.types";
import { apiClient, eventually } from "../support/api-client";
import { startCluster, type Cluster } from "../support/cluster";
import { devIssuerOf } from "../support/quickstart";
import { loadInfra, mongoUriFor } from "../support/infra";

const BUYERS = 1000;
const GA = 300;
const SEATS = Array.from({ length: 200 }, (_, i) => `H:${Math.floor(i / 20) + 1}:${(i % 20) + 1}`);
const CAPACITY = GA + SEATS.length;

interface Placed {
  id: string;
  payment: { id: string; confirmationUrl: string };
}

/**
 * A flash sale in the distributed mode: gateway, catalogue and sales as three processes over
 * NATS and the MongoDB protocol, buyers over HTTP, payments through the YooKassa simulator.
 */
describe("flash sale over NATS: never oversell, never a seat twice, never charge without tickets", () => {
  const infra = loadInfra(["nats", "mongo"]);
  const run = randomUUID().slice(0, 8);
  const db = `flash_${run}`;
  let cluster: Cluster;
  let api: ReturnType<typeof apiClient>;
  let store: MongoStore;
  let stopWatching: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    cluster = await startCluster(
      {
        gateway: "api,runners",
        catalogue: "organizers,artists,venues,events,runners",
        sales: "inventory,orders,tickets,runners",
      },
      {
        TRANSPORTER: infra.natsUrl,
        NAMESPACE: `flash-${run}`,
        MONGO_URI: mongoUriFor(db),
        RUNNER_POLL_MS: "100",
        RATE_LIMIT_PER_MINUTE: "0",
        HOLD_TTL_SECONDS: "4",
      },
    );
    api = apiClient(cluster.apiUrl);
    store = await MongoStore.open({ uri: mongoUriFor(db) });
  }, 90_000);

  afterAll(async () => {
    await stopWatching();
    await cluster?.stop();
    await store?.connection.dropDatabase().catch(() => undefined);
    await store?.close();
  }, 30_000);

  test(`${BUYERS} buyers for ${CAPACITY} tickets, some declining or abandoning`, async () => {
    const issuer = await devIssuerOf(cluster.env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    expect((await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } })).status).toBe(201);
    const rows = Array.from({ length: 25 }, (_, r) => ({
      id: String(r + 1),
      seats: Array.from({ length: 20 }, (_, s) => String(s + 1)),
    }));
    expect(
      (
        await api("POST", "/venues", {
          token: olga,
          body: {
            id: "arena",
            name: "Arena",
            address: "Prospekt 1",
            city: "Moscow",
            timezone: "Europe/Moscow",
            layout: { sections: [{ id: "H", name: "Hall", rows }] },
          },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api("POST", "/events", {
          token: olga,
          body: {
            id: "hot",
            venueId: "arena",
            name: "Hot Show",
            category: "concert",
            startsAt: "2031-09-01T19:00:00+03:00",
            endsAt: "2031-09-01T22:00:00+03:00",
          },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api("POST", "/events/hot/categories", {
          token: olga,
          body: { categoryId: "ga", name: "GA", price: 300000, currency: "RUB", kind: "ga", quota: GA },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api("POST", "/events/hot/categories", {
          token: olga,
          body: { categoryId: "seats", name: "Seats", price: 500000, currency: "RUB", kind: "seated", seats: SEATS },
        })
      ).status,
    ).toBe(201);
    expect((await api("POST", "/events/hot/publish", { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability: Record<string, { available: number }> | null }>("GET", "/events/hot"),
      (r) => r.body.availability?.ga?.available === GA,
      20_000,
    );

    // Watch the read model through the whole sale: availability never goes below zero.
    let observations = 0;
    let watching = true;
    const stock = () => store.collection<EventStockDoc>("stock_g1").get("event:hot");
    const watcher = (async () => {
      while (watching) {
        const doc = await stock();
        for (const c of Object.values(doc?.categories ?? {})) {
          expect(c.available).toBeGreaterThanOrEqual(0);
          expect(c.held).toBeGreaterThanOrEqual(0);
          expect(c.held + c.sold).toBeLessThanOrEqual(c.capacity);
        }
        observations++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    stopWatching = async () => {
      watching = false;
      await watcher.catch(() => undefined);
    };

    const tokens = await Promise.all(
      Array.from({ length: BUYERS }, (_, i) => issuer.mint({ sub: `buyer-${i}`, roles: ["customer"] })),
    );
    const outcome = { paid: 0, declined: 0, abandoned: 0, soldOut: 0, seatTaken: 0, busy: 0 };
    const placedBy = new Map<number, Placed>();

    // Buyers take a seat when general admission is gone, and pick seats from a seat map that
    // shows what they learned is taken, as people do.
    let gaGone = false;
    const taken = new Set<string>();
    const pickSeat = () => {
      const free = SEATS.filter((s) => !taken.has(s));
      return (free.length ? free : SEATS)[Math.floor(Math.random() * (free.length || SEATS.length))];
    };
    const tryBuy = async (i: number): Promise<"done" | "retry"> => {
      const seatId = i % 5 < 2 || gaGone ? pickSeat() : null;
      const body = {
        eventId: "hot",
        customer: { email: `buyer${i}@example.com`, phone: `+7900${String(i).padStart(7, "0")}` },
        ...(seatId ? { seats: [{ categoryId: "seats", seatId }] } : { items: [{ categoryId: "ga", quantity: 1 }] }),
      };
      const res = await api<Placed & { type?: string }>("POST", "/orders", { token: tokens[i], body });
      if (res.status === 503) {
        outcome.busy++;
        return "retry";
      }
      if (res.status === 409) {
        if (res.body.type === "SEAT_TAKEN") {
          outcome.seatTaken++;
          if (seatId) taken.add(seatId);
        } else {
          outcome.soldOut++;
          gaGone = true;
        }
        return "retry";
      }
      expect(res.status).toBe(201);
      placedBy.set(i, res.body);
      if (seatId) taken.add(seatId);
      const fate = i % 10;
      if (fate === 0) {
        outcome.abandoned++;
        if (seatId) setTimeout(() => taken.delete(seatId), 4500);
        return "done";
      }
      if (fate === 1 && seatId) taken.delete(seatId);
      const action = fate === 1 ? "decline" : "pay";
      const form = await fetch(`${res.body.payment.confirmationUrl}/${action}`, { method: "POST", redirect: "manual" });
      expect(form.status).toBeLessThan(400);
      if (action === "pay") outcome.paid++;
      else outcome.declined++;
      return "done";
    };

    // Rounds: everyone tries; those who lost try again after holds were released.
    let pending = Array.from({ length: BUYERS }, (_, i) => i);
    for (let round = 0; round < 30 && pending.length > 0; round++) {
      const results = await Promise.all(pending.map(async (i) => [i, await tryBuy(i)] as const));
      pending = results.filter(([, r]) => r === "retry").map(([i]) => i);
      const current = await stock();
      const categories = Object.values(current?.categories ?? {});
      if (categories.reduce((n, c) => n + c.available + c.held, 0) === 0) break;
      // Abandoned holds come back when they expire (4 s); otherwise try again at once.
      const waiting = categories.some((c) => c.held > 0) && categories.every((c) => c.available === 0);
      await new Promise((r) => setTimeout(r, waiting ? 4500 : 200));
    }
    // Let every payment in flight settle: no holds, every runner caught up, three times in a row.
    let quiet = 0;
    let lastReport = "";
    await eventually(
      async () => {
        const [ready, doc] = await Promise.all([
          api<{ nodes: Array<{ runners: Array<{ lag: number }> }> }>("GET", "/ready"),
          stock(),
        ]);
        const caughtUp = ready.body.nodes.every((n) => n.runners.every((r) => r.lag === 0));
        const noHolds = !!doc && Object.values(doc.categories).every((c) => c.held === 0);
        quiet = caughtUp && noHolds ? quiet + 1 : 0;
        lastReport = JSON.stringify({
          problems: (ready.body as { problems?: string[] }).problems,
          behind: ready.body.nodes.flatMap((n) => n.runners.filter((r) => r.lag > 0)),
          held: doc && Object.values(doc.categories).map((c) => c.held),
        });
        await new Promise((r) => setTimeout(r, 300));
        return quiet;
      },
      (q) => q >= 3,
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; ${lastReport}`);
    });
    const sold = await stock();
    watching = false;
    await watcher;

    // The write side: the inventory aggregate, every order, every payment.
    const log = store.log("sales");
    const inventory = fold(inventoryDecider, inventoryDecider.initialState(), await log.readStream("inventory-hot"));
    const soldTotal = availability(inventory).reduce((n, c) => n + c.sold, 0);
    expect(soldTotal).toBeLessThanOrEqual(CAPACITY);
    const orders: Order[] = [];
    for (const placed of placedBy.values()) {
      const order = fold(orderDecider, orderDecider.initialState(), await log.readStream(`order-${placed.id}`));
      if (order) orders.push(order);
    }
    const paidOrders = orders.filter((o) => o.status === "paid");
    const tickets = paidOrders.flatMap((o) => o.tickets);
    expect(tickets).toHaveLength(soldTotal);
    const seats = tickets.filter((t) => t.seatId).map((t) => t.seatId);
    expect(new Set(seats).size).toBe(seats.length);
    expect(new Set(tickets.map((t) => t.barcode)).size).toBe(tickets.length);
    for (const o of paidOrders) expect(o.tickets.length).toBe(o.lines.reduce((n, l) => n + l.quantity, 0));

    // Payments, as the provider sees them: captured exactly for the orders that have tickets.
    const simulatorApi = orders[0].payment!.confirmationUrl.replace(/\/checkout\/.*$/, "/v3");
    const auth = `Basic ${Buffer.from("simulator-shop:simulator-secret").toString("base64")}`;
    for (const o of orders) {
      const payment = (await (
        await fetch(`${simulatorApi}/payments/${o.payment!.id}`, { headers: { authorization: auth } })
      ).json()) as { status: string };
      if (payment.status === "succeeded") expect(o.status).toBe("paid");
      if (o.status === "paid") expect(payment.status).toBe("succeeded");
      if (o.status === "expired" || o.status === "cancelled") expect(payment.status).not.toBe("succeeded");
    }
    expect(soldTotal).toBe(CAPACITY);
    expect(Object.values(sold!.categories).reduce((n, c) => n + c.sold, 0)).toBe(CAPACITY);
    expect(observations).toBeGreaterThan(5);
    console.log(JSON.stringify({ ...outcome, orders: orders.length, sold: soldTotal, observations }));
  }, 240_000);
});
