import type { CommandBase } from "../../lib/domain/actor";

/** One aggregate per event: everything that can be sold for it, in the `sales` log. */
export function inventoryStream(eventId: string): string {
  return `inventory-${eventId}`;
}

export const SALES_LOG = "sales";

export interface SyncedCategory {
  id: string;
  name: string;
  price: number;
  currency: string;
  kind: "ga" | "seated";
  /** GA: the quota. Seated: derived from the seats. */
  capacity: number;
  seats?: string[];
}

export interface Limits {
  /** Tickets in one order at most. */
  maxPerOrder: number;
  /** Tickets one customer may hold or own for this event at most. */
  maxPerCustomer: number;
}

export const DEFAULT_LIMITS: Limits = { maxPerOrder: 10, maxPerCustomer: 20 };

/** What one hold (and later one sale) covers in one category. */
export interface HoldLine {
  categoryId: string;
  quantity: number;
  /** Seated categories: exactly `quantity` seat ids. */
  seats?: string[];
}

export interface Hold {
  id: string;
  orderId: string;
  customerKey: string;
  lines: HoldLine[];
  expiresAt: number;
}

export type Request = { categoryId: string; quantity: number } | { categoryId: string; seatId: string };

export interface SyncInventory extends CommandBase {
  type: "SyncInventory";
  eventId: string;
  /** Sales are open only while the event is on sale. */
  open: boolean;
  categories: SyncedCategory[];
  limits?: Limits;
}

export interface PlaceHold extends CommandBase {
  type: "PlaceHold";
  holdId: string;
  orderId: string;
  customerKey: string;
  requests: Request[];
  expiresAt: number;
}

/** Why an order's tickets went back on sale. */
export type ReleaseReason = "cancelled" | "payment_failed" | "expired" | "hold_lost" | "event_cancelled";

/**
 * A hold goes back on sale. It does not close the order: a hold placed for an order that was
 * never recorded is released so, and a retry of the same request may hold again.
 */
export interface ReleaseHold extends CommandBase {
  type: "ReleaseHold";
  holdId: string;
  reason: "cancelled" | "payment_failed" | "expired";
}

/**
 * The order closed without tickets (cancelled or expired; the order's stream decided it, so no
 * tickets can be issued for it any more): everything it still has here goes back on sale, held
 * or sold but never issued, and nothing is held or sold for it again.
 */
export interface ReleaseOrder extends CommandBase {
  type: "ReleaseOrder";
  orderId: string;
  /** The hold (and sale) id the order's tickets are kept under. */
  holdId: string;
  reason: ReleaseReason;
}

export interface ExpireHolds extends CommandBase {
  type: "ExpireHolds";
}

/**
 * Turns a hold into a sale. When the hold has lapsed, the same tickets are sold if they are
 * still free (a payment that arrived late); otherwise the command is refused with HOLD_LOST
 * and the payment must be cancelled, never captured.
 */
export interface ConfirmHold extends CommandBase {
  type: "ConfirmHold";
  holdId: string;
  /** What the lapsed hold covered, from the order. */
  lines: HoldLine[];
  orderId: string;
  customerKey: string;
}

/** Tickets of a sale come back (a refund): they are on sale again. */
export interface ReturnTickets extends CommandBase {
  type: "ReturnTickets";
  saleId: string;
  returnId: string;
  lines: HoldLine[];
}

export type InventoryCommand = SyncInventory | PlaceHold | ReleaseHold | ReleaseOrder | ExpireHolds | ConfirmHold | ReturnTickets;

export type InventoryEvent =
  | { type: "InventorySynced"; data: { eventId: string; open: boolean; categories: SyncedCategory[]; limits: Limits } }
  | { type: "HoldPlaced"; data: Hold }
  | { type: "HoldReleased"; data: { holdId: string; reason: ReleaseHold["reason"] } }
  | { type: "HoldConfirmed"; data: { holdId: string; orderId: string; customerKey: string; lines: HoldLine[] } }
  | { type: "TicketsReturned"; data: { saleId: string; returnId: string; lines: HoldLine[] } }
  /** What a closed order gave back: its hold's lines (`held`) and its sale's (`sold`), either may be empty. */
  | {
      type: "OrderReleased";
      data: { orderId: string; holdId: string; reason: ReleaseReason; held: HoldLine[]; sold: HoldLine[] };
    };

export interface CategoryStock {
  id: string;
  name: string;
  price: number;
  currency: string;
  kind: "ga" | "seated";
  capacity: number;
  held: number;
  sold: number;
  /** Seated: who has each taken seat (a hold id or a sale id); free seats are absent. */
  taken: Map<string, { by: string; sold: boolean }>;
  /** Seated: every seat of the category. */
  seats: Set<string>;
}

export interface InventoryState {
  eventId: string | null;
  open: boolean;
  limits: Limits;
  categories: Map<string, CategoryStock>;
  holds: Map<string, Hold>;
  /** Sales by hold id (a sale keeps the id of the hold it came from). */
  sales: Map<string, { orderId: string; customerKey: string; lines: HoldLine[] }>;
  /** Returns already applied, so a repeated refund changes nothing. */
  returns: Set<string>;
  /** Orders closed without tickets: whatever they had was given back, and they get nothing again. */
  closed: Set<string>;
  /** Tickets held or sold per customer. */
  perCustomer: Map<string, number>;
}
