import type { DistributiveOmit } from "../../../lib/domain/objects";
import { DomainError } from "../../../lib/eventlog/decider";
import { availability, inventoryDecider } from "../../../services/inventory/inventory.decider";
import type { InventoryCommand, InventoryState, ReleaseReason } from "../../../services/inventory/inventory.types";
import { orderDecider } from "../../../services/orders/orders.decider";
import type { Order, OrderCommand, OrderLine, OrderState, Ticket } from "../../../services/orders/orders.types";

/**
 * The order saga across its two streams (the order's and the event's inventory), with the
 * deciders only: every interleaving of the steps the services take, with a crash at every
 * point a process can die, and then what the log guarantees to happen later (the expiry sweeps
 * and the sales.stock-release subscription). At rest the stock must say what the order says.
 */

const T0 = Date.parse("2030-01-01T12:00:00Z");
const EXPIRES = T0 + 15 * 60_000;
const LATER = EXPIRES + 60_000;
const system = { sub: "system", roles: ["admin" as const] };
const buyer = { sub: "ann", roles: ["customer" as const] };
const ID = "o1";
const SEATS = ["A:1:1", "A:1:2"];
const LINES: OrderLine[] = [
  { categoryId: "floor", categoryName: "Floor", quantity: 2, unitPrice: 100 },
  { categoryId: "vip", categoryName: "VIP", quantity: 1, seats: ["A:1:1"], unitPrice: 500 },
];
const AMOUNT = 700;
const HOLD_LINES = LINES.map(({ categoryId, quantity, seats }) => ({ categoryId, quantity, ...(seats ? { seats } : {}) }));

interface World {
  inventory: InventoryState;
  order: OrderState;
  /** What the settlement saw when it loaded the order (it acts on that, however stale). */
  settlerSaw?: Order["status"] | null;
}

/** Runs a command's decide and evolve; a refusal is returned, not thrown, and changes nothing. */
function refusalOf(apply: () => void): DomainError | null {
  try {
    apply();
    return null;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
}

const applyInventory = (w: World, command: DistributiveOmit<InventoryCommand, "actor">) =>
  refusalOf(() => {
    for (const e of inventoryDecider.decide({ actor: system, ...command } as InventoryCommand, w.inventory))
      w.inventory = inventoryDecider.evolve(w.inventory, e);
  });

const applyOrder = (w: World, command: DistributiveOmit<OrderCommand, "id">) =>
  refusalOf(() => {
    for (const e of orderDecider.decide({ id: ID, ...command } as OrderCommand, w.order))
      w.order = orderDecider.evolve(w.order, e);
  });

function openSale(): World {
  const w: World = { inventory: inventoryDecider.initialState(), order: null };
  syncInventory(w, true);
  return w;
}

function syncInventory(w: World, open: boolean): void {
  applyInventory(w, {
    type: "SyncInventory",
    at: T0,
    eventId: "e1",
    open,
    categories: [
      { id: "floor", name: "Floor", price: 100, currency: "RUB", kind: "ga", capacity: 5 },
      { id: "vip", name: "VIP", price: 500, currency: "RUB", kind: "seated", capacity: SEATS.length, seats: SEATS },
    ],
  });
}

const tickets = (): Omit<Ticket, "status">[] =>
  LINES.flatMap((l) =>
    Array.from({ length: l.quantity }, (_, i) => ({
      id: `${l.categoryId}-${i}`,
      barcode: `B${l.categoryId}${i}`,
      series: "TL",
      number: String(i + 1),
      categoryId: l.categoryId,
      categoryName: l.categoryName,
      ...(l.seats ? { seatId: l.seats[i] } : {}),
      price: l.unitPrice,
      currency: "RUB",
    })),
  );

const releaseOrder = (w: World, reason: ReleaseReason, at = T0) =>
  applyInventory(w, { type: "ReleaseOrder", at, orderId: ID, holdId: ID, reason });

/** What sales.stock-release does for an order event: an order that closed gives everything back. */
function compensate(w: World): void {
  if (w.order?.status === "cancelled") releaseOrder(w, "cancelled");
  if (w.order?.status === "expired") releaseOrder(w, "expired");
}

/** A step returns false when its actor stops there (a refusal ends what that process was doing). */
type Step = (w: World) => boolean;

/** orders.create: hold, then record the order (with its payment); a refused order gives the hold back. */
const placement: Step[] = [
  (w) =>
    applyInventory(w, {
      type: "PlaceHold",
      at: T0,
      holdId: ID,
      orderId: ID,
      customerKey: "user:ann",
      requests: [
        { categoryId: "floor", quantity: 2 },
        { categoryId: "vip", seatId: "A:1:1" },
      ],
      expiresAt: EXPIRES,
    }) === null,
  (w) => {
    const refused = applyOrder(w, {
      type: "PlaceOrder",
      actor: buyer,
      at: T0 + 1,
      number: "TL-1",
      eventId: "e1",
      organizerId: "org",
      customer: { email: "ann@example.com", phone: "+79001234567" },
      lines: LINES,
      currency: "RUB",
      expiresAt: EXPIRES,
    });
    if (refused) {
      applyInventory(w, { type: "ReleaseHold", at: T0 + 1, holdId: ID, reason: "cancelled" });
      return false;
    }
    applyOrder(w, { type: "AttachPayment", actor: system, at: T0 + 1, paymentId: "pay-1", confirmationUrl: "https://pay" });
    return true;
  },
];

/** settlePayment for an authorised payment: load the order, confirm the tickets, issue them. */
const settlement: Step[] = [
  (w) => {
    w.settlerSaw = w.order?.status ?? null;
    return w.settlerSaw === "awaiting_payment";
  },
  (w) => {
    const refused = applyInventory(w, {
      type: "ConfirmHold",
      at: T0 + 2,
      holdId: ID,
      orderId: ID,
      customerKey: "user:ann",
      lines: HOLD_LINES,
    });
    if (!refused) return true;
    if (refused.type !== "HOLD_LOST") throw refused;
    // The authorisation is cancelled and the order closed for it (a no-op if it closed already).
    applyOrder(w, { type: "CancelOrder", actor: system, at: T0 + 2, reason: "hold_lost" });
    return false;
  },
  (w) => {
    const refused = applyOrder(w, {
      type: "IssueTickets",
      actor: system,
      at: T0 + 3,
      paymentId: "pay-1",
      paidAmount: AMOUNT,
      paidCurrency: "RUB",
      tickets: tickets(),
    });
    if (refused && refused.type !== "ORDER_CLOSED") throw refused;
    return !refused;
  },
];

type Closer = "customer" | "event_cancelled" | "expired";

const closed = (w: World) => w.order?.status === "cancelled" || w.order?.status === "expired";

/**
 * How the order may close: its closure is recorded, then (unless the process died in between)
 * the handler's inline release, only when the order is closed now (it may have been paid first).
 */
function closer(kind: Closer, crashBeforeRelease: boolean): Step[] {
  return [
    (w) => {
      if (kind === "expired") {
        if (applyOrder(w, { type: "ExpireOrder", actor: system, at: LATER })) return false;
      } else {
        if (kind === "event_cancelled") syncInventory(w, false);
        const reason = kind === "customer" ? "customer" : "event_cancelled";
        if (applyOrder(w, { type: "CancelOrder", actor: kind === "customer" ? buyer : system, at: T0 + 4, reason })) return false;
      }
      if (!crashBeforeRelease && closed(w)) releaseOrder(w, kind === "customer" ? "cancelled" : kind, T0 + 4);
      return true;
    },
  ];
}

const subscription: Step[] = [(w) => (compensate(w), true)];
const holdSweep: Step[] = [(w) => (applyInventory(w, { type: "ExpireHolds", at: LATER }), true)];

/** Every merge of the actors' step lists that keeps each actor's own order. */
function* interleavings(actors: Step[][]): Generator<Array<[number, Step]>> {
  const next = actors.map(() => 0);
  const path: Array<[number, Step]> = [];
  function* walk(): Generator<Array<[number, Step]>> {
    let done = true;
    for (let a = 0; a < actors.length; a++) {
      if (next[a] >= actors[a].length) continue;
      done = false;
      path.push([a, actors[a][next[a]]]);
      next[a]++;
      yield* walk();
      next[a]--;
      path.pop();
    }
    if (done) yield path;
  }
  yield* walk();
}

/** Runs one interleaving: an actor that stopped (refused) takes no further steps. */
function play(steps: Array<[number, Step]>): World {
  const w = openSale();
  const stopped = new Set<number>();
  for (const [actor, step] of steps) {
    if (stopped.has(actor)) continue;
    if (!step(w)) stopped.add(actor);
  }
  return w;
}

/** What the log makes happen later, whoever crashed: the order sweep, the subscription, the hold sweep. */
function settle(w: World): void {
  if (w.order?.status === "awaiting_payment") applyOrder(w, { type: "ExpireOrder", actor: system, at: LATER });
  compensate(w);
  applyInventory(w, { type: "ExpireHolds", at: LATER + 60 * 60_000 });
}

function soldPerCategory(w: World): Record<string, number> {
  return Object.fromEntries(availability(w.inventory).map((a) => [a.categoryId, a.sold]));
}

/** At rest: nothing held; sold exactly what the order was issued; a closed order gets nothing later. */
function problemsAtRest(w: World): string[] {
  const paid = w.order?.status === "paid";
  const issued: Record<string, number> = { floor: 0, vip: 0 };
  for (const t of paid ? w.order!.tickets : []) if (t.status === "active") issued[t.categoryId]++;
  const problems: string[] = [];
  for (const c of w.inventory.categories.values()) {
    if (c.held !== 0) problems.push(`${c.id}: ${c.held} held`);
    if (c.sold !== issued[c.id]) problems.push(`${c.id}: ${c.sold} sold, ${issued[c.id]} issued`);
  }
  const seats = [...w.inventory.categories.get("vip")!.taken.keys()].join();
  if (seats !== (paid ? "A:1:1" : "")) problems.push(`seats taken: ${seats}`);
  if (!paid && w.order) {
    const late = applyInventory(w, {
      type: "ConfirmHold",
      at: LATER,
      holdId: ID,
      orderId: ID,
      customerKey: "k",
      lines: HOLD_LINES,
    });
    if (late?.type !== "HOLD_LOST") problems.push(`a late confirm for a ${w.order.status} order was not refused`);
  }
  return problems;
}

describe("order saga across the order and inventory streams", () => {
  test.each<Closer>(["customer", "event_cancelled", "expired"])(
    "closed as %s: every interleaving and crash point ends with sold == issued and nothing held",
    (kind) => {
      let runs = 0;
      const outcomes = new Set<string>();
      // A crash cuts an actor short: after the hold, after the confirm, after the closure commit.
      const failures: string[] = [];
      for (const placeCut of [2, 1])
        for (const settleCut of [3, 2])
          for (const crashBeforeRelease of [false, true]) {
            const actors = [
              placement.slice(0, placeCut),
              settlement.slice(0, settleCut),
              closer(kind, crashBeforeRelease),
              subscription,
              holdSweep,
            ];
            for (const steps of interleavings(actors)) {
              const w = play(steps);
              settle(w);
              const problems = problemsAtRest(w);
              if (problems.length && failures.length < 5) {
                const cuts = `placement ${placeCut} steps, settlement ${settleCut}, crash before release ${crashBeforeRelease}`;
                failures.push(`${cuts}; actors in order ${steps.map(([a]) => a).join("")}: ${problems.join("; ")}`);
              }
              outcomes.add(w.order?.status ?? "no order");
              runs++;
            }
          }
      expect(failures).toEqual([]);
      // The walk reached every ending: paid, closed, and a hold whose order was never recorded.
      expect([...outcomes]).toEqual(expect.arrayContaining(["no order", "paid", kind === "expired" ? "expired" : "cancelled"]));
      expect(runs).toBeGreaterThan(1000);
    },
  );

  test("a release that arrives before the confirm: the confirm is refused even though the tickets are free", () => {
    const w = openSale();
    placement.forEach((step) => step(w));
    applyOrder(w, { type: "CancelOrder", actor: buyer, at: T0 + 4, reason: "customer" });
    releaseOrder(w, "cancelled");
    expect(availability(w.inventory).map((a) => a.held + a.sold)).toEqual([0, 0]);
    const late = applyInventory(w, {
      type: "ConfirmHold",
      at: T0 + 5,
      holdId: ID,
      orderId: ID,
      customerKey: "k",
      lines: HOLD_LINES,
    });
    expect(late).toMatchObject({ type: "HOLD_LOST", status: 409 });
    // Nor is anything held for it again (a retried request with the same order id).
    const again = applyInventory(w, {
      type: "PlaceHold",
      at: T0 + 5,
      holdId: ID,
      orderId: ID,
      customerKey: "k",
      requests: [{ categoryId: "floor", quantity: 1 }],
      expiresAt: EXPIRES,
    });
    expect(again).toMatchObject({ type: "ORDER_CLOSED", status: 409 });
  });

  test("a release after the confirm gives the unissued sale back, and its seat can be sold to someone else, once", () => {
    const w = openSale();
    placement.forEach((step) => step(w));
    settlement.slice(0, 2).forEach((step) => step(w));
    expect(soldPerCategory(w)).toEqual({ floor: 2, vip: 1 });
    applyOrder(w, { type: "ExpireOrder", actor: system, at: LATER });
    releaseOrder(w, "expired", LATER);
    expect(soldPerCategory(w)).toEqual({ floor: 0, vip: 0 });
    expect(w.inventory.perCustomer.size).toBe(0);
    // The issue that comes too late is refused by the order: the payment is cancelled.
    expect(
      applyOrder(w, {
        type: "IssueTickets",
        actor: system,
        at: LATER,
        paymentId: "pay-1",
        paidAmount: AMOUNT,
        paidCurrency: "RUB",
        tickets: tickets(),
      }),
    ).toMatchObject({ type: "ORDER_CLOSED" });
    const rival = applyInventory(w, {
      type: "PlaceHold",
      at: LATER,
      holdId: "o2",
      orderId: "o2",
      customerKey: "bob",
      requests: [{ categoryId: "vip", seatId: "A:1:1" }],
      expiresAt: LATER + 60_000,
    });
    expect(rival).toBeNull();
    // Repeating the release (the subscription after the inline call) changes nothing.
    const before = JSON.stringify(availability(w.inventory));
    expect(
      inventoryDecider.decide(
        { type: "ReleaseOrder", actor: system, at: LATER, orderId: ID, holdId: ID, reason: "expired" },
        w.inventory,
      ),
    ).toEqual([]);
    expect(JSON.stringify(availability(w.inventory))).toBe(before);
    expect(w.inventory.categories.get("vip")!.taken.get("A:1:1")).toEqual({ by: "o2", sold: false });
  });

  test("a hold whose order was never recorded lapses by itself, and the same request may hold again before that", () => {
    const w = openSale();
    placement[0](w);
    expect(availability(w.inventory).map((a) => a.held)).toEqual([2, 1]);
    applyInventory(w, { type: "ExpireHolds", at: LATER });
    expect(availability(w.inventory).map((a) => a.held)).toEqual([0, 0]);
    // Not closed: a retry of the request (same Idempotency-Key, same order id) holds anew.
    expect(placement[0](w)).toBe(true);
  });

  test("a paid order is never given back: a release for it (a stale call) is refused by the order first", () => {
    const w = openSale();
    placement.forEach((step) => step(w));
    settlement.forEach((step) => step(w));
    expect(w.order?.status).toBe("paid");
    expect(applyOrder(w, { type: "CancelOrder", actor: buyer, at: T0 + 4, reason: "customer" })).toMatchObject({
      type: "ORDER_PAID",
    });
    expect(applyOrder(w, { type: "ExpireOrder", actor: system, at: LATER })).toBeNull();
    expect(w.order?.status).toBe("paid");
    compensate(w);
    expect(soldPerCategory(w)).toEqual({ floor: 2, vip: 1 });
  });
});
