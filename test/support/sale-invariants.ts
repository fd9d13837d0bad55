import { fold } from "../../lib/eventlog/decider";
import type { Commit } from "../../lib/eventlog/types";
import type { Store } from "../../lib/store/types";
import { availability, inventoryDecider, type CategoryAvailability } from "../../services/inventory/inventory.decider";
import type { EventStockDoc } from "../../services/inventory/inventory.projection";
import { inventoryStream, SALES_LOG, type InventoryState } from "../../services/inventory/inventory.types";
import { orderDecider } from "../../services/orders/orders.decider";
import type { Order, OrderState } from "../../services/orders/orders.types";
import { waitFor, WaitTimeout } from "./wait";

/**
 * What a sale must guarantee, checked against the write side (the sales log), the payment
 * provider (the YooKassa simulator) and the read model, for any test that sells tickets:
 *
 * - never oversold: per category held + sold <= capacity, none negative;
 * - no seat and no barcode sold twice;
 * - at rest, nothing is held (holds expire or are released);
 * - at rest, what the inventory counts as sold is exactly the live tickets of paid orders,
 *   category by category and order by order;
 * - at rest, every order is settled (paid, expired, cancelled or refunded);
 * - every payment the provider authorised is captured (its order paid, with tickets) or
 *   cancelled; no money is taken for an order without tickets;
 * - at rest, the stock read model shows what the write side knows.
 *
 * Nothing here depends on timing: `waitForRest` polls state with a bound and says what it
 * waited for; `saleViolations` lists every broken guarantee with its numbers.
 */

/** Provider statuses that never change again (a refund does not change a payment's status). */
const FINAL_PAYMENT = new Set(["succeeded", "canceled"]);
const LIVE_TICKET = new Set(["active", "used"]);

/** The sales log of one event, folded incrementally: its inventory aggregate and its orders. */
export class SaleLedger {
  private after = 0;
  private inventory: InventoryState = inventoryDecider.initialState();
  private readonly orderStates = new Map<string, OrderState>();
  private reading: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    readonly eventId: string,
  ) {}

  /** Reads what was appended since the last refresh; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.reading ??= this.readNew().finally(() => (this.reading = null));
    return this.reading;
  }

  private async readNew(): Promise<void> {
    const log = this.store.log(SALES_LOG);
    const stream = inventoryStream(this.eventId);
    for (;;) {
      const commits = await bounded(log.readFrom(this.after, 1000), `reading the sales log after position ${this.after}`);
      // A position not yet visible (a concurrent append) is read next time, never skipped.
      const contiguous: Commit[] = [];
      for (const commit of commits) {
        if (commit.pos !== this.after + contiguous.length + 1) break;
        contiguous.push(commit);
      }
      for (const commit of contiguous) {
        if (commit.stream === stream) this.inventory = fold(inventoryDecider, this.inventory, [commit]);
        else if (commit.stream.startsWith("order-"))
          this.orderStates.set(commit.stream, fold(orderDecider, this.orderStates.get(commit.stream) ?? null, [commit]));
      }
      if (contiguous.length === 0) return;
      this.after = contiguous[contiguous.length - 1].pos;
      if (contiguous.length < commits.length || commits.length < 1000) return;
    }
  }

  /** The last log position read. */
  get position(): number {
    return this.after;
  }

  categories(): CategoryAvailability[] {
    return availability(this.inventory);
  }

  totals(): { capacity: number; held: number; sold: number; available: number } {
    const t = { capacity: 0, held: 0, sold: 0, available: 0 };
    for (const c of this.categories()) {
      t.capacity += c.capacity;
      t.held += c.held;
      t.sold += c.sold;
      t.available += c.available;
    }
    return t;
  }

  /** Holds not yet confirmed, released or expired. */
  holds(): Array<{ id: string; expiresAt: number }> {
    return [...this.inventory.holds.values()].map((h) => ({ id: h.id, expiresAt: h.expiresAt }));
  }

  /** Seats of a seated category that nobody holds or bought. */
  freeSeats(categoryId: string): string[] {
    const c = this.inventory.categories.get(categoryId);
    return c ? [...c.seats].filter((s) => !c.taken.has(s)) : [];
  }

  /** Tickets still in the inventory's sales, per order id (the hold id is the order id). */
  sales(): Map<string, Map<string, { quantity: number; seats: string[] }>> {
    const out = new Map<string, Map<string, { quantity: number; seats: string[] }>>();
    for (const [holdId, sale] of this.inventory.sales) {
      const lines = new Map<string, { quantity: number; seats: string[] }>();
      for (const l of sale.lines) if (l.quantity > 0) lines.set(l.categoryId, { quantity: l.quantity, seats: l.seats ?? [] });
      out.set(holdId, lines);
    }
    return out;
  }

  /** No tickets left and none held that could come back: sold out for good (barring refunds). */
  soldOut(): boolean {
    const cats = this.categories();
    return cats.length > 0 && cats.every((c) => c.available === 0 && c.held === 0);
  }

  orders(): Order[] {
    return this.everyOrder().filter((o) => o.eventId === this.eventId);
  }

  /** Orders of every event in the log. */
  everyOrder(): Order[] {
    return [...this.orderStates.values()].filter((o): o is Order => !!o);
  }

  order(id: string): Order | null {
    return this.orderStates.get(`order-${id}`) ?? null;
  }
}

/** Every order in the sales log, of every event, folded from its own commits. */
export async function allOrders(store: Store): Promise<Order[]> {
  const ledger = new SaleLedger(store, "");
  await ledger.refresh();
  return ledger.everyOrder();
}

/** A read that does not answer is given up, so the next refresh asks again instead of hanging. */
function bounded<T>(read: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}

const SIMULATOR_AUTH = `Basic ${Buffer.from("simulator-shop:simulator-secret").toString("base64")}`;

/**
 * Payment statuses as the YooKassa simulator (in the process that created them) reports them,
 * by payment id. Statuses that never change again are asked for once.
 */
export class PaymentBook {
  private readonly statuses = new Map<string, string>();

  async refresh(orders: Order[]): Promise<Map<string, string>> {
    const open = orders.filter((o) => o.payment && !FINAL_PAYMENT.has(this.statuses.get(o.payment.id) ?? ""));
    // A few at a time: the simulator lives in a server process of the test's cluster.
    for (let i = 0; i < open.length; i += 16) {
      await Promise.all(
        open.slice(i, i + 16).map(async (o) => this.statuses.set(o.payment!.id, await paymentStatus(o.payment!))),
      );
    }
    return this.statuses;
  }

  status(paymentId: string): string | undefined {
    return this.statuses.get(paymentId);
  }
}

export async function paymentStatus(payment: { id: string; confirmationUrl: string }): Promise<string> {
  const api = payment.confirmationUrl.replace(/\/checkout\/.*$/, "/v3");
  const res = await fetch(`${api}/payments/${payment.id}`, { headers: { authorization: SIMULATOR_AUTH } });
  if (!res.ok) throw new Error(`the simulator answered ${res.status} for payment ${payment.id}`);
  return ((await res.json()) as { status: string }).status;
}

/** What is still moving in a sale; all zero means at rest. */
export interface Unsettled {
  holds: number;
  awaitingPayment: number;
  authorisedNotSettled: number;
  examples: string[];
}

function unsettled(ledger: SaleLedger, payments: PaymentBook): Unsettled {
  const awaiting = ledger.orders().filter((o) => o.status === "awaiting_payment");
  const authorised = ledger.orders().filter((o) => o.payment && payments.status(o.payment.id) === "waiting_for_capture");
  const holds = ledger.holds();
  return {
    holds: holds.length,
    awaitingPayment: awaiting.length,
    authorisedNotSettled: authorised.length,
    examples: [
      ...holds.slice(0, 3).map((h) => `hold ${h.id} expiring ${new Date(h.expiresAt).toISOString()}`),
      ...awaiting.slice(0, 3).map((o) => `order ${o.id} awaiting_payment (payment ${o.payment?.id ?? "none"})`),
      ...authorised.slice(0, 3).map((o) => `order ${o.id} is ${o.status}, its payment ${o.payment!.id} waiting_for_capture`),
    ],
  };
}

/**
 * Waits until nothing moves any more: no holds, no order awaiting payment, no authorised
 * payment waiting for capture, and whatever `alsoWait` adds (e.g. read models caught up).
 * Throws WaitTimeout naming what still moved.
 */
export async function waitForRest(
  ledger: SaleLedger,
  payments: PaymentBook,
  options: { timeoutMs: number; alsoWait?: () => Promise<string | null> },
): Promise<void> {
  await waitFor(
    `the sale of event ${ledger.eventId} to come to rest (no holds, every order settled, no payment waiting for capture${options.alsoWait ? ", read side caught up" : ""})`,
    async () => {
      await ledger.refresh();
      await payments.refresh(ledger.orders());
      const still = unsettled(ledger, payments);
      const other = options.alsoWait ? await options.alsoWait() : null;
      return { ...still, other };
    },
    (s) => s.holds === 0 && s.awaitingPayment === 0 && s.authorisedNotSettled === 0 && s.other === null,
    { timeoutMs: options.timeoutMs, intervalMs: 500 },
  );
}

/** Figures of a sale at rest, for the test's log. */
export interface SaleFigures {
  capacity: number;
  sold: number;
  liveTickets: number;
  orders: number;
  /** Orders by "order status/payment status". */
  statuses: Record<string, number>;
}

/**
 * Every guarantee of the sale that does not hold, with its numbers; empty when all hold.
 * `stock` is the read model's document for the event, compared when given.
 */
export function saleViolations(
  ledger: SaleLedger,
  payments: PaymentBook,
  options: { atRest: boolean; stock?: EventStockDoc | null },
): { violations: string[]; figures: SaleFigures } {
  const v: string[] = [];
  const cats = ledger.categories();
  const orders = ledger.orders();

  for (const c of cats) {
    if (c.held < 0 || c.sold < 0 || c.held + c.sold > c.capacity)
      v.push(`category ${c.categoryId}: held ${c.held} + sold ${c.sold} against capacity ${c.capacity} (oversold)`);
  }

  // Tickets of paid orders that are still valid: the ones the inventory must count as sold.
  const live = orders.flatMap((o) => o.tickets.filter((t) => LIVE_TICKET.has(t.status)).map((t) => ({ order: o, t })));
  const seats = new Map<string, string>();
  for (const { order, t } of live) {
    if (!t.seatId) continue;
    const first = seats.get(t.seatId);
    if (first) v.push(`seat ${t.seatId} sold twice: orders ${first} and ${order.id}`);
    else seats.set(t.seatId, order.id);
  }
  const barcodes = new Set<string>();
  for (const o of orders)
    for (const t of o.tickets) {
      if (barcodes.has(t.barcode)) v.push(`barcode ${t.barcode} issued twice (order ${o.id})`);
      barcodes.add(t.barcode);
    }
  for (const o of orders.filter((o) => o.status === "paid")) {
    const places = o.lines.reduce((n, l) => n + l.quantity, 0);
    if (o.tickets.length !== places) v.push(`order ${o.id} is paid for ${places} places but has ${o.tickets.length} tickets`);
  }

  const statuses: Record<string, number> = {};
  for (const o of orders) {
    const payment = o.payment ? (payments.status(o.payment.id) ?? "unknown") : "none";
    statuses[`${o.status}/${payment}`] = (statuses[`${o.status}/${payment}`] ?? 0) + 1;
    const paid = o.status === "paid" || o.status === "partially_refunded" || o.status === "refunded";
    if (payment === "succeeded" && !paid)
      v.push(`order ${o.id} is ${o.status} but its payment was captured (money without tickets)`);
    if (o.payment && paid && payment !== "succeeded" && payment !== "unknown")
      v.push(`order ${o.id} is ${o.status} but its payment is ${payment}`);
  }

  if (options.atRest) {
    const still = unsettled(ledger, payments);
    if (still.holds > 0) v.push(`at rest ${still.holds} hold(s) remain: ${still.examples.join("; ")}`);
    if (still.awaitingPayment > 0)
      v.push(`at rest ${still.awaitingPayment} order(s) still awaiting payment: ${still.examples.join("; ")}`);
    if (still.authorisedNotSettled > 0)
      v.push(
        `at rest ${still.authorisedNotSettled} authorised payment(s) neither captured nor cancelled: ${still.examples.join("; ")}`,
      );

    // Sold in the inventory == live tickets of paid orders, per category, then order by order.
    for (const c of cats) {
      const tickets = live.filter(({ t }) => t.categoryId === c.categoryId).length;
      if (c.sold !== tickets)
        v.push(`category ${c.categoryId}: the inventory counts ${c.sold} sold, paid orders hold ${tickets} live tickets`);
    }
    const sales = ledger.sales();
    const ids = new Set([...sales.keys(), ...live.map(({ order }) => order.id)]);
    const mismatches: string[] = [];
    for (const id of ids) {
      const inInventory = [...(sales.get(id)?.values() ?? [])].reduce((n, l) => n + l.quantity, 0);
      const order = ledger.order(id);
      const tickets = order ? order.tickets.filter((t) => LIVE_TICKET.has(t.status)).length : 0;
      if (inInventory !== tickets) {
        const payment = order?.payment ? (payments.status(order.payment.id) ?? "unknown") : "none";
        mismatches.push(
          `order ${id} (${order?.status ?? "unknown"}, payment ${payment}): ${inInventory} sold, ${tickets} live tickets`,
        );
      }
    }
    if (mismatches.length)
      v.push(
        `${mismatches.length} order(s) where the inventory's sale and the tickets differ: ${mismatches.slice(0, 10).join("; ")}`,
      );

    if (options.stock !== undefined) {
      for (const c of cats) {
        const doc = options.stock?.categories[c.categoryId];
        if (!doc || doc.held !== c.held || doc.sold !== c.sold || doc.available !== c.available)
          v.push(
            `category ${c.categoryId}: the read model shows ${doc ? `held ${doc.held}, sold ${doc.sold}, available ${doc.available}` : "nothing"}, the log held ${c.held}, sold ${c.sold}, available ${c.available}`,
          );
      }
    }
  }

  const totals = ledger.totals();
  return {
    violations: v,
    figures: { capacity: totals.capacity, sold: totals.sold, liveTickets: live.length, orders: orders.length, statuses },
  };
}

/**
 * Waits (bounded) for the sale to come to rest, then checks every guarantee. Never throws
 * for a broken guarantee: returns them all, with the wait's own failure first, so a test
 * reports every number at once.
 */
export async function settleAndCheck(
  ledger: SaleLedger,
  options: { timeoutMs: number; alsoWait?: () => Promise<string | null>; stock?: () => Promise<EventStockDoc | null> },
): Promise<{ violations: string[]; figures: SaleFigures }> {
  const payments = new PaymentBook();
  const rest = await waitForRest(ledger, payments, options).then(
    () => null,
    (err: Error) => {
      if (!(err instanceof WaitTimeout)) throw err;
      return err.message;
    },
  );
  await ledger.refresh();
  await payments.refresh(ledger.orders());
  const stock = options.stock ? await options.stock() : undefined;
  const result = saleViolations(ledger, payments, { atRest: true, stock });
  if (rest) result.violations.unshift(rest);
  return result;
}
