import { handleCommand, type Decider } from "../../../lib/eventlog/decider";
import { projectInto } from "../../../lib/eventlog/projection";
import type { Actor } from "../../../lib/domain/actor";
import type { DistributiveOmit } from "../../../lib/domain/objects";
import type { Commit, NewEvent } from "../../../lib/eventlog/types";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";
import { inventoryDecider } from "../../../services/inventory/inventory.decider";
import {
  eventStockId,
  stockProjection,
  type EventStockDoc,
  type StockDoc,
} from "../../../services/inventory/inventory.projection";
import {
  SALES_LOG,
  inventoryStream,
  type InventoryCommand,
  type SyncedCategory,
} from "../../../services/inventory/inventory.types";
import { orderDecider } from "../../../services/orders/orders.decider";
import { orderStream, type OrderCommand, type OrderLine, type Ticket } from "../../../services/orders/orders.types";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const system: Actor = { sub: "system", roles: ["admin"] };
const buyer: Actor = { sub: "ann", roles: ["customer"] };
const organizer: Actor = { sub: "olga", roles: ["organizer"], organizerId: "org" };

let store: EmbeddedStore;

beforeEach(async () => {
  store = await EmbeddedStore.open({ logs: [SALES_LOG] });
});
afterEach(async () => {
  await store.close();
});

const log = () => store.log(SALES_LOG);

async function run<C, E extends NewEvent, S>(decider: Decider<C, E, S>, stream: string, command: C): Promise<void> {
  await handleCommand(log(), decider, stream, command);
}
const inventory = (command: DistributiveOmit<InventoryCommand, "actor" | "at">) =>
  run(inventoryDecider, inventoryStream("e1"), { actor: system, at: T0, ...command } as InventoryCommand);
const orders = (id: string, command: DistributiveOmit<OrderCommand, "actor" | "at" | "id">, actor = system) =>
  run(orderDecider, orderStream(id), { actor, at: T0, id, ...command } as OrderCommand);

/** Event e1 on sale with these categories. */
const openSale = (categories: SyncedCategory[]) => inventory({ type: "SyncInventory", eventId: "e1", open: true, categories });

/** A paid order the way the services record it: hold, order, confirmation, tickets. */
async function sell(id: string, lines: OrderLine[]): Promise<Ticket[]> {
  await inventory({ type: "PlaceHold", holdId: id, orderId: id, customerKey: "ann", requests: lines, expiresAt: T0 + 60_000 });
  await orders(
    id,
    {
      type: "PlaceOrder",
      number: `TL-${id}`,
      eventId: "e1",
      organizerId: "org",
      customer: { email: "ann@example.com", phone: "+79001234567" },
      lines,
      currency: "RUB",
      expiresAt: T0 + 60_000,
    },
    buyer,
  );
  await orders(id, { type: "AttachPayment", paymentId: `pay-${id}`, confirmationUrl: "https://pay" });
  const holdLines = lines.map(({ categoryId, quantity }) => ({ categoryId, quantity }));
  await inventory({ type: "ConfirmHold", holdId: id, orderId: id, customerKey: "ann", lines: holdLines });
  const tickets = lines.flatMap((l) =>
    Array.from({ length: l.quantity }, (_, i) => ({
      id: `${id}-${l.categoryId}-${i}`,
      barcode: `${id}${l.categoryId}${i}`,
      series: "TL",
      number: String(i + 1),
      categoryId: l.categoryId,
      categoryName: l.categoryName,
      price: l.unitPrice,
      currency: "RUB",
    })),
  );
  const amount = tickets.reduce((sum, t) => sum + t.price, 0);
  await orders(id, { type: "IssueTickets", paymentId: `pay-${id}`, paidAmount: amount, paidCurrency: "RUB", tickets });
  return tickets.map((t) => ({ ...t, status: "active" }));
}

async function project(collection: string, commits: Commit[], batch: number): Promise<EventStockDoc> {
  const docs = store.collection<StockDoc>(collection);
  for (let i = 0; i < commits.length; i += batch)
    await projectInto(stockProjection, store, collection, commits.slice(i, i + batch));
  return (await docs.get(eventStockId("e1"))) as EventStockDoc;
}

describe("sales.stock projection: revenue per category", () => {
  test("issued tickets count at their price, refunds are taken back; replays and rebuilds agree", async () => {
    await openSale([
      { id: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", capacity: 10 },
      { id: "vip", name: "VIP", price: 400000, currency: "RUB", kind: "ga", capacity: 4 },
    ]);
    const floor = { categoryId: "floor", categoryName: "Floor", unitPrice: 150000 };
    const vip = { categoryId: "vip", categoryName: "VIP", unitPrice: 400000 };
    const first = await sell("o1", [
      { ...floor, quantity: 2 },
      { ...vip, quantity: 1 },
    ]);
    await sell("o2", [{ ...floor, quantity: 1 }]);
    // The price changes later: revenue keeps what the tickets were sold for.
    await openSale([
      { id: "floor", name: "Floor", price: 170000, currency: "RUB", kind: "ga", capacity: 10 },
      { id: "vip", name: "VIP", price: 400000, currency: "RUB", kind: "ga", capacity: 4 },
    ]);
    const vipTicket = first.find((t) => t.categoryId === "vip")!;
    await orders("o1", { type: "RefundTickets", refundId: "r1", ticketIds: [vipTicket.id] }, organizer);
    await inventory({ type: "ReturnTickets", saleId: "o1", returnId: "r1", lines: [{ categoryId: "vip", quantity: 1 }] });
    // A refund recorded before refunds named their tickets: counted nowhere, rather than guessed.
    await log().append({
      stream: orderStream("o2"),
      expectedSeq: (await log().readStream(orderStream("o2"))).length,
      events: [
        {
          type: "TicketsRefunded",
          data: {
            id: "o2",
            refundId: "old",
            ticketIds: ["x"],
            amount: 150000,
            eventId: "e1",
            paymentId: "pay-o2",
            currency: "RUB",
          },
        },
      ],
    });
    // A hold still open.
    await inventory({
      type: "PlaceHold",
      holdId: "h3",
      orderId: "o3",
      customerKey: "bob",
      requests: [{ categoryId: "vip", quantity: 2 }],
      expiresAt: T0 + 60_000,
    });

    const refund = (await log().readStream(orderStream("o1"))).flatMap((c) => c.events).find((e) => e.type === "TicketsRefunded");
    expect(refund!.data).toMatchObject({
      ticketIds: [vipTicket.id],
      tickets: [{ id: vipTicket.id, categoryId: "vip", price: 400000 }],
      amount: 400000,
    });

    const commits = await log().readFrom(0, 10_000);
    const live = await project("stock_live", commits, 1);
    expect(live.categories.floor).toMatchObject({
      price: 170000,
      capacity: 10,
      held: 0,
      sold: 3,
      available: 7,
      ticketsIssued: 3,
      gross: 450000,
      ticketsRefunded: 0,
      refunded: 0,
    });
    expect(live.categories.vip).toMatchObject({
      capacity: 4,
      held: 2,
      sold: 0,
      available: 2,
      ticketsIssued: 1,
      gross: 400000,
      ticketsRefunded: 1,
      refunded: 400000,
    });

    // Applying the same commits again changes nothing; a rebuild in one batch lands on the same numbers.
    expect(await project("stock_live", commits, 3)).toEqual(live);
    const rebuilt = await project("stock_rebuilt", commits, 10_000);
    expect(rebuilt.categories).toEqual(live.categories);
  });
});

describe("sales.stock projection: orders that close without tickets", () => {
  test("a closed order's hold and unissued sale leave the stock as the inventory counts it", async () => {
    await openSale([
      { id: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", capacity: 10 },
      { id: "vip", name: "VIP", price: 400000, currency: "RUB", kind: "seated", capacity: 2, seats: ["A:1:1", "A:1:2"] },
    ]);
    const hold = (
      id: string,
      requests: Array<{ categoryId: string; quantity: number } | { categoryId: string; seatId: string }>,
    ) => inventory({ type: "PlaceHold", holdId: id, orderId: id, customerKey: id, requests, expiresAt: T0 + 60_000 });
    await hold("held", [{ categoryId: "floor", quantity: 2 }]);
    await hold("confirmed", [
      { categoryId: "floor", quantity: 1 },
      { categoryId: "vip", seatId: "A:1:1" },
    ]);
    await inventory({
      type: "ConfirmHold",
      holdId: "confirmed",
      orderId: "confirmed",
      customerKey: "confirmed",
      lines: [],
    });
    await hold("open", [{ categoryId: "vip", seatId: "A:1:2" }]);
    for (const id of ["held", "confirmed"]) {
      await inventory({ type: "ReleaseOrder", orderId: id, holdId: id, reason: "expired" });
      // The subscription after the inline call: nothing more happens.
      await inventory({ type: "ReleaseOrder", orderId: id, holdId: id, reason: "expired" });
    }

    const commits = await log().readFrom(0, 10_000);
    expect(commits.flatMap((c) => c.events).filter((e) => e.type === "OrderReleased")).toHaveLength(2);
    const live = await project("stock_live", commits, 1);
    expect(live.categories.floor).toMatchObject({ held: 0, sold: 0, available: 10 });
    expect(live.categories.vip).toMatchObject({ held: 1, sold: 0, available: 1 });
    const holds = await store.collection<StockDoc>("stock_live").find({ kind: "hold" });
    expect(holds.map((h) => h._id)).toEqual(["hold:open"]);
    expect(await project("stock_live", commits, 4)).toEqual(live);
  });
});
