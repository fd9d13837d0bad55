import { DomainError, type Decider } from "../../lib/eventlog/decider";
import {
  DEFAULT_LIMITS,
  type CategoryStock,
  type ConfirmHold,
  type HoldLine,
  type InventoryCommand,
  type InventoryEvent,
  type InventoryState,
  type PlaceHold,
  type ReleaseOrder,
  type ReturnTickets,
  type SyncInventory,
} from "./inventory.types";

export interface CategoryAvailability {
  categoryId: string;
  capacity: number;
  held: number;
  sold: number;
  available: number;
}

export function availability(state: InventoryState): CategoryAvailability[] {
  return [...state.categories.values()].map((c) => ({
    categoryId: c.id,
    capacity: c.capacity,
    held: c.held,
    sold: c.sold,
    available: c.capacity - c.held - c.sold,
  }));
}

/**
 * Under heavy load a hold can lapse while its request queues (before it is placed, before its
 * order is recorded, before the answer): nothing is wrong with the request, so the answer is
 * "send the same request again" (the retry holds anew), never a refusal of the buyer's data.
 */
export function holdLapsed(): DomainError {
  return new DomainError(
    "HOLD_EXPIRED",
    "the tickets held for this order expired while the request queued (heavy load): send the same request again",
    503,
    { retryAfterSec: 1 },
  );
}

function refuse(type: string, message: string, status: number, data?: Record<string, unknown>): DomainError {
  return new DomainError(type, message, status, data);
}

function category(state: InventoryState, id: string): CategoryStock {
  const found = state.categories.get(id);
  if (!found)
    throw refuse("VALIDATION", `ticket category ${id} is not sold for this event`, 400, { field: "categoryId", categoryId: id });
  return found;
}

function free(c: CategoryStock): number {
  return c.capacity - c.held - c.sold;
}

function ticketCount(lines: HoldLine[]): number {
  return lines.reduce((n, l) => n + l.quantity, 0);
}

/** Groups a buyer's requests into one line per category, checking their shape. */
function linesOf(state: InventoryState, command: PlaceHold): HoldLine[] {
  if (command.requests.length === 0) throw refuse("VALIDATION", "an order needs at least one ticket", 400, { field: "items" });
  const lines = new Map<string, HoldLine>();
  for (const request of command.requests) {
    const c = category(state, request.categoryId);
    let line = lines.get(c.id);
    if (!line) lines.set(c.id, (line = { categoryId: c.id, quantity: 0, ...(c.kind === "seated" ? { seats: [] } : {}) }));
    if ("seatId" in request) {
      if (c.kind !== "seated")
        throw refuse("VALIDATION", `category ${c.id} is general admission: ask for a quantity`, 400, { field: "seats" });
      if (!c.seats.has(request.seatId))
        throw refuse("VALIDATION", `seat ${request.seatId} is not in category ${c.id}`, 400, {
          field: "seats",
          seatId: request.seatId,
        });
      if (line.seats!.includes(request.seatId))
        throw refuse("VALIDATION", `seat ${request.seatId} is asked for twice`, 400, { field: "seats" });
      line.seats!.push(request.seatId);
      line.quantity += 1;
    } else {
      if (c.kind === "seated") throw refuse("VALIDATION", `category ${c.id} is seated: choose seats`, 400, { field: "items" });
      if (!Number.isInteger(request.quantity) || request.quantity < 1)
        throw refuse("VALIDATION", "quantity must be a positive integer", 400, { field: "quantity" });
      line.quantity += request.quantity;
    }
  }
  return [...lines.values()];
}

/** Refuses lines that cannot be taken from what is free now, saying what is still available. */
function checkAvailable(state: InventoryState, lines: HoldLine[]): void {
  for (const line of lines) {
    const c = category(state, line.categoryId);
    if (c.kind === "seated") {
      const taken = line.seats!.filter((s) => c.taken.has(s));
      if (taken.length) {
        throw refuse("SEAT_TAKEN", `seat(s) ${taken.join(", ")} are no longer available`, 409, {
          categoryId: c.id,
          seats: taken,
          available: free(c),
        });
      }
    } else if (line.quantity > free(c)) {
      throw refuse("SOLD_OUT", `only ${free(c)} ticket(s) left in category ${c.id}`, 409, {
        categoryId: c.id,
        available: free(c),
      });
    }
  }
}

/** The order was closed and gave its tickets back: nothing is held or sold for it again. */
function orderClosed(orderId: string): DomainError {
  return refuse("ORDER_CLOSED", `order ${orderId} is closed: place a new order`, 409, { orderId });
}

function placeHold(command: PlaceHold, state: InventoryState): InventoryEvent[] {
  if (state.holds.has(command.holdId) || state.sales.has(command.holdId)) return [];
  if (state.closed.has(command.orderId)) throw orderClosed(command.orderId);
  if (!state.eventId) throw refuse("NOT_ON_SALE", "no tickets are on sale for this event", 404);
  if (!state.open) throw refuse("SALES_CLOSED", "sales for this event are closed", 409);
  // The order service sets the expiry: past already means the request queued that long.
  if (command.expiresAt <= command.at) throw holdLapsed();
  const lines = linesOf(state, command);
  const count = ticketCount(lines);
  if (count > state.limits.maxPerOrder) {
    throw refuse("LIMIT_PER_ORDER", `at most ${state.limits.maxPerOrder} tickets per order`, 422, {
      limit: state.limits.maxPerOrder,
    });
  }
  const owned = state.perCustomer.get(command.customerKey) ?? 0;
  if (owned + count > state.limits.maxPerCustomer) {
    throw refuse("LIMIT_PER_CUSTOMER", `at most ${state.limits.maxPerCustomer} tickets per customer for this event`, 422, {
      limit: state.limits.maxPerCustomer,
      owned,
    });
  }
  checkAvailable(state, lines);
  return [
    {
      type: "HoldPlaced",
      data: {
        id: command.holdId,
        orderId: command.orderId,
        customerKey: command.customerKey,
        lines,
        expiresAt: command.expiresAt,
      },
    },
  ];
}

function confirmHold(command: ConfirmHold, state: InventoryState): InventoryEvent[] {
  // A confirm that arrives after its order closed (a payment settled late) sells nothing: the
  // order can no longer get tickets, so a sale here would never be issued nor given back.
  if (state.closed.has(command.orderId))
    throw refuse("HOLD_LOST", `order ${command.orderId} is closed and its tickets were given back`, 409, {
      cause: "ORDER_CLOSED",
    });
  if (state.sales.has(command.holdId)) return [];
  const hold = state.holds.get(command.holdId);
  // A hold that is still ours (even past its time, if not yet released) is sold as it is.
  if (hold)
    return [
      {
        type: "HoldConfirmed",
        data: { holdId: hold.id, orderId: hold.orderId, customerKey: hold.customerKey, lines: hold.lines },
      },
    ];
  if (!state.open) throw refuse("HOLD_LOST", "the hold has lapsed and sales are closed", 409);
  try {
    checkAvailable(state, command.lines);
  } catch (err) {
    throw refuse("HOLD_LOST", "the hold has lapsed and its tickets were sold to someone else", 409, {
      cause: (err as DomainError).type,
    });
  }
  return [
    {
      type: "HoldConfirmed",
      data: { holdId: command.holdId, orderId: command.orderId, customerKey: command.customerKey, lines: command.lines },
    },
  ];
}

function returnTickets(command: ReturnTickets, state: InventoryState): InventoryEvent[] {
  if (state.returns.has(command.returnId)) return [];
  const sale = state.sales.get(command.saleId);
  if (!sale) throw refuse("NOT_FOUND", `no sale ${command.saleId} for this event`, 404);
  for (const line of command.lines) {
    const sold = sale.lines.find((l) => l.categoryId === line.categoryId);
    if (!sold || line.quantity > sold.quantity || (line.seats ?? []).some((s) => !sold.seats?.includes(s))) {
      throw refuse("VALIDATION", `sale ${command.saleId} does not hold what is being returned in ${line.categoryId}`, 400, {
        field: "lines",
      });
    }
  }
  return [{ type: "TicketsReturned", data: { saleId: command.saleId, returnId: command.returnId, lines: command.lines } }];
}

const copyLines = (lines: HoldLine[]): HoldLine[] => lines.map((l) => ({ ...l, ...(l.seats ? { seats: [...l.seats] } : {}) }));

/** Gives back what a closed order still has: its hold, and a sale whose tickets were never issued. */
function releaseOrder(command: ReleaseOrder, state: InventoryState): InventoryEvent[] {
  if (state.closed.has(command.orderId)) return [];
  const hold = state.holds.get(command.holdId);
  const sale = state.sales.get(command.holdId);
  const held = hold?.orderId === command.orderId ? copyLines(hold.lines) : [];
  const sold = sale?.orderId === command.orderId ? copyLines(sale.lines.filter((l) => l.quantity > 0)) : [];
  return [
    { type: "OrderReleased", data: { orderId: command.orderId, holdId: command.holdId, reason: command.reason, held, sold } },
  ];
}

function syncInventory(command: SyncInventory, state: InventoryState): InventoryEvent[] {
  const limits = command.limits ?? state.limits;
  for (const c of command.categories) {
    const current = state.categories.get(c.id);
    if (current && c.kind === "ga" && c.capacity < current.held + current.sold) {
      throw refuse("CATEGORY_SOLD", `category ${c.id} already has ${current.held + current.sold} tickets held or sold`, 409);
    }
    if (current && c.kind === "seated") {
      const kept = new Set(c.seats ?? []);
      const lost = [...current.taken.keys()].filter((s) => !kept.has(s));
      if (lost.length) throw refuse("CATEGORY_SOLD", `seats ${lost.join(", ")} of category ${c.id} are held or sold`, 409);
    }
  }
  const data = { eventId: command.eventId, open: command.open, categories: command.categories, limits };
  const same =
    state.eventId === command.eventId &&
    state.open === command.open &&
    JSON.stringify(limits) === JSON.stringify(state.limits) &&
    command.categories.length === state.categories.size &&
    command.categories.every((c) => {
      const s = state.categories.get(c.id);
      return (
        s &&
        s.name === c.name &&
        s.price === c.price &&
        s.currency === c.currency &&
        s.kind === c.kind &&
        s.capacity === c.capacity
      );
    });
  return same ? [] : [{ type: "InventorySynced", data }];
}

function adjustCustomer(state: InventoryState, customerKey: string, delta: number): void {
  const next = (state.perCustomer.get(customerKey) ?? 0) + delta;
  if (next > 0) state.perCustomer.set(customerKey, next);
  else state.perCustomer.delete(customerKey);
}

/**
 * Everything one event can sell: GA quotas and individual seats, holds with an expiry, sales
 * and returns. Invariant, per category: held + sold + available = capacity, available >= 0,
 * and a seat belongs to at most one hold or sale.
 *
 * The order saga's compensations meet here: a closed order (ReleaseOrder) gives back its hold
 * and any sale its order never issued, once, and is refused any later hold or confirm, so a
 * release and a confirm give the same stock in whichever order they arrive.
 *
 * evolve updates the state in place (it runs inside one mailbox that owns the state; see
 * lib/eventlog/mailbox.ts): copying thousands of seats per event would cost the flash sale.
 */
export const inventoryDecider: Decider<InventoryCommand, InventoryEvent, InventoryState> = {
  initialState: () => ({
    eventId: null,
    open: false,
    limits: DEFAULT_LIMITS,
    categories: new Map(),
    holds: new Map(),
    sales: new Map(),
    returns: new Set(),
    closed: new Set(),
    perCustomer: new Map(),
  }),
  decide: (command, state) => {
    switch (command.type) {
      case "SyncInventory":
        return syncInventory(command, state);
      case "PlaceHold":
        return placeHold(command, state);
      case "ReleaseHold":
        return state.holds.has(command.holdId)
          ? [{ type: "HoldReleased", data: { holdId: command.holdId, reason: command.reason } }]
          : [];
      case "ReleaseOrder":
        return releaseOrder(command, state);
      case "ExpireHolds":
        return [...state.holds.values()]
          .filter((h) => h.expiresAt <= command.at)
          .map((h) => ({ type: "HoldReleased", data: { holdId: h.id, reason: "expired" } }));
      case "ConfirmHold":
        return confirmHold(command, state);
      case "ReturnTickets":
        return returnTickets(command, state);
    }
  },
  evolve: (state, event) => {
    switch (event.type) {
      case "InventorySynced": {
        state.eventId = event.data.eventId;
        state.open = event.data.open;
        state.limits = event.data.limits;
        for (const c of event.data.categories) {
          const current = state.categories.get(c.id);
          const seats = new Set(c.seats ?? []);
          state.categories.set(c.id, {
            id: c.id,
            name: c.name,
            price: c.price,
            currency: c.currency,
            kind: c.kind,
            capacity: c.kind === "seated" ? seats.size : c.capacity,
            held: current?.held ?? 0,
            sold: current?.sold ?? 0,
            taken: current?.taken ?? new Map(),
            seats,
          });
        }
        for (const id of [...state.categories.keys()]) {
          const c = state.categories.get(id)!;
          if (!event.data.categories.some((s) => s.id === id) && c.held + c.sold === 0) state.categories.delete(id);
        }
        return state;
      }
      case "HoldPlaced": {
        const hold = event.data;
        state.holds.set(hold.id, hold);
        for (const line of hold.lines) {
          const c = state.categories.get(line.categoryId)!;
          c.held += line.quantity;
          for (const seat of line.seats ?? []) c.taken.set(seat, { by: hold.id, sold: false });
        }
        adjustCustomer(state, hold.customerKey, ticketCount(hold.lines));
        return state;
      }
      case "HoldReleased": {
        const hold = state.holds.get(event.data.holdId);
        if (!hold) return state;
        for (const line of hold.lines) {
          const c = state.categories.get(line.categoryId)!;
          c.held -= line.quantity;
          for (const seat of line.seats ?? []) c.taken.delete(seat);
        }
        adjustCustomer(state, hold.customerKey, -ticketCount(hold.lines));
        state.holds.delete(hold.id);
        return state;
      }
      case "HoldConfirmed": {
        const { holdId, lines, orderId, customerKey } = event.data;
        const wasHeld = state.holds.has(holdId);
        for (const line of lines) {
          const c = state.categories.get(line.categoryId)!;
          if (wasHeld) c.held -= line.quantity;
          c.sold += line.quantity;
          for (const seat of line.seats ?? []) c.taken.set(seat, { by: holdId, sold: true });
        }
        if (!wasHeld) adjustCustomer(state, customerKey, ticketCount(lines));
        state.holds.delete(holdId);
        state.sales.set(holdId, { orderId, customerKey, lines: lines.map((l) => ({ ...l, seats: l.seats && [...l.seats] })) });
        return state;
      }
      case "TicketsReturned": {
        const sale = state.sales.get(event.data.saleId)!;
        for (const line of event.data.lines) {
          const c = state.categories.get(line.categoryId)!;
          c.sold -= line.quantity;
          for (const seat of line.seats ?? []) c.taken.delete(seat);
          const sold = sale.lines.find((l) => l.categoryId === line.categoryId)!;
          sold.quantity -= line.quantity;
          if (sold.seats) sold.seats = sold.seats.filter((s) => !line.seats?.includes(s));
        }
        adjustCustomer(state, sale.customerKey, -ticketCount(event.data.lines));
        state.returns.add(event.data.returnId);
        return state;
      }
      case "OrderReleased": {
        const { orderId, holdId, held, sold } = event.data;
        const customerKey = state.holds.get(holdId)?.customerKey ?? state.sales.get(holdId)?.customerKey;
        for (const [lines, key] of [
          [held, "held"],
          [sold, "sold"],
        ] as const) {
          for (const line of lines) {
            const c = state.categories.get(line.categoryId)!;
            c[key] -= line.quantity;
            for (const seat of line.seats ?? []) c.taken.delete(seat);
          }
        }
        if (held.length) state.holds.delete(holdId);
        if (sold.length) state.sales.delete(holdId);
        if (customerKey) adjustCustomer(state, customerKey, -(ticketCount(held) + ticketCount(sold)));
        state.closed.add(orderId);
        return state;
      }
    }
  },
};
