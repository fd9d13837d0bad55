/**
 * The bulk of a large data set, written straight into the stopped product's store: for each
 * paid order the commits the services write for it (the inventory's hold and sale in group
 * commits through the real mailbox and inventory decider; the order's placement, payment and
 * tickets through the real order decider), without going through HTTP and the payment
 * simulator, which would take days at a million orders.
 *
 * The history is dated in the past (the writer's clock is set back), as an organiser's years
 * of sales would be: the notification service does not send receipts for events older than a
 * week (services/notifications/notifications.service.ts), exactly as it would not after a
 * restore. Left out: the payment notifications' pointer commits and the notifications log of
 * those old receipts (a real history has them; the sales log is that much smaller here).
 */
import { randomUUID } from "node:crypto";
import type { Actor } from "../../lib/domain/actor";
import { handleCommand } from "../../lib/eventlog/decider";
import { Mailbox } from "../../lib/eventlog/mailbox";
import type { EventLog } from "../../lib/eventlog/types";
import { LOGS } from "../../lib/app/runtime";
import { EmbeddedStore } from "../../lib/store/embedded/embedded-store";
import { inventoryDecider } from "../../services/inventory/inventory.decider";
import {
  inventoryStream,
  SALES_LOG,
  type InventoryCommand,
  type InventoryEvent,
  type InventoryState,
} from "../../services/inventory/inventory.types";

type Inventory = Mailbox<InventoryCommand, InventoryEvent, InventoryState>;
import { customerKey } from "../../services/orders/order-commands";
import { orderDecider } from "../../services/orders/orders.decider";
import { orderStream, type Order, type OrderCommand } from "../../services/orders/orders.types";
import { issueTickets } from "../../services/orders/placing";
import { archiveEventId, CATEGORY, customerOf } from "./http-sales";

const SYSTEM: Actor = { sub: "system", roles: ["admin"] };
const HOLD_TTL_MS = 900_000;

export interface HistoryRange {
  /** Order numbers first .. first + orders - 1; order n is sold on archive event n % archive. */
  first: number;
  orders: number;
  archive: number;
  /** When the first of them was placed (epoch ms); the others follow `stepMs` apart. */
  startAt: number;
  stepMs: number;
  concurrency: number;
}

/** As the orders service runs it: the command id is the request's (or the causing event's) plus step and stream. */
function orderCommand(
  log: EventLog,
  id: string,
  command: OrderCommand,
  meta: { actor: string; correlationId: string },
  cause: string,
  step: string,
) {
  return handleCommand(log, orderDecider, orderStream(id), command, { commandId: `${cause}:${step}:${orderStream(id)}`, meta });
}

/** One paid order, as placeOrder, attachPayment and the payments subscription's sale write it. */
async function writeOrder(log: EventLog, inventory: Inventory, n: number, buyer: string) {
  const at = Date.now();
  const id = randomUUID();
  // The buyer's request (placing and paying) and, later, the payment notification's handling.
  const request = { key: randomUUID(), meta: { actor: buyer, correlationId: randomUUID() } };
  const notice = { key: randomUUID(), meta: { actor: "system", correlationId: randomUUID() } };
  const user: Actor = { sub: buyer, roles: ["customer"] };
  const key = customerKey(buyer);
  const eventId = inventory.stream.slice("inventory-".length);
  const held = await inventory.submit(
    {
      type: "PlaceHold",
      holdId: id,
      orderId: id,
      customerKey: key,
      requests: [{ categoryId: CATEGORY.categoryId, quantity: 1 + (n % 2) }],
      expiresAt: at + HOLD_TTL_MS,
      actor: user,
      at,
    },
    request.meta,
  );
  const hold = held.events.find((e) => e.type === "HoldPlaced");
  if (!hold) throw new Error(`order ${n}: the inventory placed no hold on ${eventId}`);
  const lines = hold.data.lines.map((l) => ({ ...l, categoryName: CATEGORY.name, unitPrice: CATEGORY.price }));
  const number = `TL-${id.replace(/-/g, "").slice(0, 10).toUpperCase()}`;
  const placed = await orderCommand(
    log,
    id,
    {
      type: "PlaceOrder",
      id,
      number,
      eventId,
      organizerId: "org",
      customer: customerOf(n),
      lines,
      currency: CATEGORY.currency,
      expiresAt: hold.data.expiresAt,
      actor: user,
      at,
    },
    request.meta,
    request.key,
    "place",
  );
  // A payment id of YooKassa's shape (the simulator's are the same).
  const paymentId = randomUUID().replace(/^(\w{8})-\w{4}/, "$1-000f");
  await orderCommand(
    log,
    id,
    {
      type: "AttachPayment",
      id,
      paymentId,
      confirmationUrl: `http://127.0.0.1/checkout/${paymentId}`,
      actor: user,
      at,
    },
    request.meta,
    request.key,
    "attach",
  );
  const order = placed.state as Order;
  const paidAt = at + 30_000;
  await inventory.submit(
    {
      type: "ConfirmHold",
      holdId: id,
      orderId: id,
      customerKey: key,
      lines: order.lines.map(({ categoryId, quantity }) => ({ categoryId, quantity })),
      actor: SYSTEM,
      at: paidAt,
    },
    notice.meta,
  );
  await orderCommand(
    log,
    id,
    {
      type: "IssueTickets",
      id,
      paymentId,
      paidAmount: order.amount,
      paidCurrency: order.currency,
      tickets: issueTickets(order),
      actor: SYSTEM,
      at: paidAt,
    },
    notice.meta,
    notice.key,
    "issue",
  );
}

/**
 * Writes the range event by event (one inventory mailbox in memory at a time, nothing kept
 * per order), `concurrency` orders at a time so the inventory's group commits fill as they do
 * under a real sale. The product must be stopped: the store takes its lock.
 */
export async function writeHistory(
  dataDir: string,
  range: HistoryRange,
  buyerOf: (n: number) => string,
  progress: (written: number) => void,
): Promise<void> {
  const store = await EmbeddedStore.open({ dataDir, logs: [...LOGS] });
  const realNow = Date.now;
  let written = 0;
  Date.now = () => range.startAt + written * range.stepMs;
  try {
    const log = store.log(SALES_LOG);
    for (let e = 0; e < range.archive; e++) {
      const inventory: Inventory = new Mailbox(log, inventoryDecider, inventoryStream(archiveEventId(e)), {
        maxQueue: 1_000_000,
      });
      // The order numbers of this event, in order: first + k with (first + k) % archive === e.
      let n = range.first + ((e - (range.first % range.archive) + range.archive) % range.archive);
      const end = range.first + range.orders;
      const worker = async () => {
        while (n < end) {
          const mine = n;
          n += range.archive;
          await writeOrder(log, inventory, mine, buyerOf(mine));
          if (++written % 10_000 === 0) progress(written);
        }
      };
      await Promise.all(Array.from({ length: range.concurrency }, worker));
    }
    progress(written);
  } finally {
    Date.now = realNow;
    await store.close();
  }
}
