import { DomainError } from "../../../lib/eventlog/decider";
import { availability, inventoryDecider } from "../../../services/inventory/inventory.decider";
import type { InventoryCommand, InventoryEvent, InventoryState, Request } from "../../../services/inventory/inventory.types";

const actor = { sub: "system", roles: ["admin" as const] };
const T0 = Date.parse("2030-01-01T12:00:00Z");
const SEATS = ["A:1:1", "A:1:2", "A:1:3", "A:2:1", "A:2:2"];

function sync(open = true): InventoryCommand {
  return {
    type: "SyncInventory",
    actor,
    at: T0,
    eventId: "e1",
    open,
    limits: { maxPerOrder: 6, maxPerCustomer: 8 },
    categories: [
      { id: "floor", name: "Floor", price: 350000, currency: "RUB", kind: "ga", capacity: 10 },
      { id: "vip", name: "VIP", price: 900000, currency: "RUB", kind: "seated", capacity: SEATS.length, seats: SEATS },
    ],
  };
}

/** Applies commands one by one like the mailbox does; returns the state and every event. */
function run(
  commands: InventoryCommand[],
  state = inventoryDecider.initialState(),
): { state: InventoryState; events: InventoryEvent[] } {
  const events: InventoryEvent[] = [];
  for (const command of commands) {
    for (const event of inventoryDecider.decide(command, state)) {
      events.push(event);
      state = inventoryDecider.evolve(state, event);
    }
  }
  return { state, events };
}

function hold(holdId: string, requests: Request[], customerKey = "buyer@example.com", at = T0): InventoryCommand {
  return { type: "PlaceHold", actor, at, holdId, orderId: `order-${holdId}`, customerKey, requests, expiresAt: at + 15 * 60_000 };
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

function stock(state: InventoryState, id: string) {
  return availability(state).find((a) => a.categoryId === id)!;
}

describe("inventory decider", () => {
  test("GA holds take from the quota; asking for more than is left says what is left", () => {
    const { state } = run([
      sync(),
      hold("h1", [{ categoryId: "floor", quantity: 4 }]),
      hold("h2", [{ categoryId: "floor", quantity: 5 }], "b2"),
    ]);
    expect(stock(state, "floor")).toEqual({ categoryId: "floor", capacity: 10, held: 9, sold: 0, available: 1 });
    const err = refusal(() => inventoryDecider.decide(hold("h3", [{ categoryId: "floor", quantity: 2 }], "b3"), state));
    expect(err).toMatchObject({ type: "SOLD_OUT", status: 409, data: { categoryId: "floor", available: 1 } });
  });

  test("a seat is held once; the second buyer hears which seats are gone", () => {
    const { state } = run([
      sync(),
      hold("h1", [
        { categoryId: "vip", seatId: "A:1:1" },
        { categoryId: "vip", seatId: "A:1:2" },
      ]),
    ]);
    const err = refusal(() =>
      inventoryDecider.decide(
        hold(
          "h2",
          [
            { categoryId: "vip", seatId: "A:1:2" },
            { categoryId: "vip", seatId: "A:1:3" },
          ],
          "b2",
        ),
        state,
      ),
    );
    expect(err).toMatchObject({ type: "SEAT_TAKEN", data: { seats: ["A:1:2"], available: 3 } });
    expect(refusal(() => inventoryDecider.decide(hold("h3", [{ categoryId: "vip", seatId: "Z:9:9" }]), state)).type).toBe(
      "VALIDATION",
    );
    expect(refusal(() => inventoryDecider.decide(hold("h4", [{ categoryId: "vip", quantity: 1 }]), state)).type).toBe(
      "VALIDATION",
    );
    expect(refusal(() => inventoryDecider.decide(hold("h5", [{ categoryId: "floor", seatId: "A:1:3" }]), state)).type).toBe(
      "VALIDATION",
    );
    const twice = refusal(() =>
      inventoryDecider.decide(
        hold("h6", [
          { categoryId: "vip", seatId: "A:2:1" },
          { categoryId: "vip", seatId: "A:2:1" },
        ]),
        state,
      ),
    );
    expect(twice.message).toMatch(/twice/);
  });

  test("limits per order and per customer", () => {
    const { state } = run([sync(), hold("h1", [{ categoryId: "floor", quantity: 5 }], "greedy")]);
    expect(refusal(() => inventoryDecider.decide(hold("h2", [{ categoryId: "floor", quantity: 7 }], "other"), state)).type).toBe(
      "LIMIT_PER_ORDER",
    );
    expect(
      refusal(() => inventoryDecider.decide(hold("h3", [{ categoryId: "floor", quantity: 4 }], "greedy"), state)),
    ).toMatchObject({
      type: "LIMIT_PER_CUSTOMER",
      data: { limit: 8, owned: 5 },
    });
    expect(inventoryDecider.decide(hold("h4", [{ categoryId: "floor", quantity: 3 }], "greedy"), state)).toHaveLength(1);
  });

  test("no holds unless sales are open; a repeated hold is a no-op", () => {
    expect(
      refusal(() => inventoryDecider.decide(hold("h1", [{ categoryId: "floor", quantity: 1 }]), inventoryDecider.initialState()))
        .type,
    ).toBe("NOT_ON_SALE");
    const closed = run([sync(false)]).state;
    expect(refusal(() => inventoryDecider.decide(hold("h1", [{ categoryId: "floor", quantity: 1 }]), closed)).type).toBe(
      "SALES_CLOSED",
    );
    const { state } = run([sync(), hold("h1", [{ categoryId: "floor", quantity: 1 }])]);
    expect(inventoryDecider.decide(hold("h1", [{ categoryId: "floor", quantity: 1 }]), state)).toEqual([]);
  });

  test("released and expired holds go back on sale; only due holds expire", () => {
    const { state } = run([
      sync(),
      hold("early", [{ categoryId: "vip", seatId: "A:1:1" }], "a", T0),
      hold("late", [{ categoryId: "floor", quantity: 2 }], "b", T0 + 10 * 60_000),
      hold("gone", [{ categoryId: "floor", quantity: 1 }], "c", T0),
      { type: "ReleaseHold", actor, at: T0 + 1000, holdId: "gone", reason: "cancelled" },
      { type: "ExpireHolds", actor, at: T0 + 16 * 60_000 },
    ]);
    expect([...state.holds.keys()]).toEqual(["late"]);
    expect(stock(state, "vip")).toMatchObject({ held: 0, available: 5 });
    expect(stock(state, "floor")).toMatchObject({ held: 2, available: 8 });
    expect(state.perCustomer.get("a")).toBeUndefined();
  });

  test("confirming sells the hold once; a lapsed hold sells only if its tickets are still free", () => {
    const seat = [{ categoryId: "vip", seatId: "A:1:1" }];
    const confirm = (holdId: string, seatId: string, customerKey = "a"): InventoryCommand => ({
      type: "ConfirmHold",
      actor,
      at: T0 + 20 * 60_000,
      holdId,
      orderId: `order-${holdId}`,
      customerKey,
      lines: [{ categoryId: "vip", quantity: 1, seats: [seatId] }],
    });
    const { state } = run([sync(), hold("h1", seat), confirm("h1", "A:1:1")]);
    expect(stock(state, "vip")).toMatchObject({ held: 0, sold: 1, available: 4 });
    expect(inventoryDecider.decide(confirm("h1", "A:1:1"), state)).toEqual([]);

    // h2 lapsed and nobody took its seat: the late payment still gets it.
    const late = run(
      [
        hold("h2", [{ categoryId: "vip", seatId: "A:1:2" }], "b"),
        { type: "ExpireHolds", actor, at: T0 + 16 * 60_000 },
        confirm("h2", "A:1:2", "b"),
      ],
      state,
    ).state;
    expect(stock(late, "vip")).toMatchObject({ sold: 2, available: 3 });
    // h3 lapsed and its seat went to h4: the payment must not be captured.
    const lost = run(
      [
        hold("h3", [{ categoryId: "vip", seatId: "A:1:3" }], "c"),
        { type: "ExpireHolds", actor, at: T0 + 16 * 60_000 },
        hold("h4", [{ categoryId: "vip", seatId: "A:1:3" }], "d", T0 + 17 * 60_000),
      ],
      late,
    ).state;
    expect(refusal(() => inventoryDecider.decide(confirm("h3", "A:1:3", "c"), lost))).toMatchObject({
      type: "HOLD_LOST",
      status: 409,
    });
  });

  test("returned tickets are on sale again, once", () => {
    const { state } = run([
      sync(),
      hold("h1", [{ categoryId: "floor", quantity: 3 }]),
      { type: "ConfirmHold", actor, at: T0, holdId: "h1", orderId: "order-h1", customerKey: "buyer@example.com", lines: [] },
    ]);
    const give = (returnId: string, quantity: number): InventoryCommand => ({
      type: "ReturnTickets",
      actor,
      at: T0,
      saleId: "h1",
      returnId,
      lines: [{ categoryId: "floor", quantity }],
    });
    const after = run([give("r1", 2)], state).state;
    expect(stock(after, "floor")).toMatchObject({ sold: 1, available: 9 });
    expect(inventoryDecider.decide(give("r1", 2), after)).toEqual([]);
    expect(refusal(() => inventoryDecider.decide(give("r2", 5), after)).type).toBe("VALIDATION");
    expect(
      refusal(() => inventoryDecider.decide({ ...(give("r3", 1) as object), saleId: "nope" } as InventoryCommand, after)).type,
    ).toBe("NOT_FOUND");
  });

  test("a sync may not take away tickets that are held or sold", () => {
    const { state } = run([
      sync(),
      hold("h1", [{ categoryId: "floor", quantity: 6 }]),
      hold("h2", [{ categoryId: "vip", seatId: "A:2:2" }], "b"),
    ]);
    const smaller = sync() as Extract<InventoryCommand, { type: "SyncInventory" }>;
    expect(
      refusal(() =>
        inventoryDecider.decide(
          { ...smaller, categories: [{ ...smaller.categories[0], capacity: 5 }, smaller.categories[1]] },
          state,
        ),
      ).type,
    ).toBe("CATEGORY_SOLD");
    expect(
      refusal(() =>
        inventoryDecider.decide(
          { ...smaller, categories: [smaller.categories[0], { ...smaller.categories[1], seats: ["A:1:1"] }] },
          state,
        ),
      ).type,
    ).toBe("CATEGORY_SOLD");
    expect(inventoryDecider.decide(sync(), state)).toEqual([]);
  });

  test("random walk: held + sold + available = capacity, no seat twice, and a replay gives the same stock", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
    let { state, events } = run([sync()]);
    let now = T0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      now += Math.floor(random() * 20_000);
      const holdIds = [...state.holds.keys()];
      const saleIds = [...state.sales.keys()];
      const r = random();
      let command: InventoryCommand;
      if (r < 0.5) {
        const seated = random() < 0.5;
        const requests: Request[] = seated
          ? Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ categoryId: "vip", seatId: pick(SEATS) }))
          : [{ categoryId: "floor", quantity: 1 + Math.floor(random() * 3) }];
        command = {
          type: "PlaceHold",
          actor,
          at: now,
          holdId: `h${i}`,
          orderId: `o${i}`,
          customerKey: `c${i % 7}`,
          requests,
          expiresAt: now + 60_000,
        };
      } else if (r < 0.6 && holdIds.length) {
        command = { type: "ReleaseHold", actor, at: now, holdId: pick(holdIds), reason: "cancelled" };
      } else if (r < 0.67 && holdIds.length + saleIds.length > 0) {
        // An order closing: whatever it has, held or sold, goes back.
        const holdId = pick([...holdIds, ...saleIds]);
        const orderId = state.holds.get(holdId)?.orderId ?? state.sales.get(holdId)!.orderId;
        command = { type: "ReleaseOrder", actor, at: now, orderId, holdId, reason: "expired" };
      } else if (r < 0.8 && holdIds.length) {
        command = { type: "ConfirmHold", actor, at: now, holdId: pick(holdIds), orderId: "o", customerKey: "c", lines: [] };
      } else if (r < 0.9 && saleIds.length) {
        const saleId = pick(saleIds);
        const line = state.sales.get(saleId)!.lines.find((l) => l.quantity > 0);
        if (!line) continue;
        command = {
          type: "ReturnTickets",
          actor,
          at: now,
          saleId,
          returnId: `r${i}`,
          lines: [{ categoryId: line.categoryId, quantity: 1, ...(line.seats ? { seats: [line.seats[0]] } : {}) }],
        };
      } else {
        command = { type: "ExpireHolds", actor, at: now };
      }
      try {
        const produced = inventoryDecider.decide(command, state);
        for (const e of produced) state = inventoryDecider.evolve(state, e);
        events = events.concat(produced);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        refused++;
      }
      // The counters must agree with the records they summarise.
      for (const c of state.categories.values()) {
        const inHolds = [...state.holds.values()].flatMap((h) => h.lines).filter((l) => l.categoryId === c.id);
        const inSales = [...state.sales.values()].flatMap((x) => x.lines).filter((l) => l.categoryId === c.id);
        expect(c.held).toBe(inHolds.reduce((n, l) => n + l.quantity, 0));
        expect(c.sold).toBe(inSales.reduce((n, l) => n + l.quantity, 0));
        expect(c.capacity - c.held - c.sold).toBeGreaterThanOrEqual(0);
        if (c.kind === "seated") {
          const seats = [...inHolds, ...inSales].flatMap((l) => l.seats ?? []);
          expect(new Set(seats).size).toBe(seats.length);
          expect(c.taken.size).toBe(seats.length);
        }
      }
    }
    expect(refused).toBeGreaterThan(100);
    const replayed = events.reduce(inventoryDecider.evolve, inventoryDecider.initialState());
    expect(availability(replayed)).toEqual(availability(state));
  });
});
