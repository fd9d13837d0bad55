/**
 * The sales mapper folds each order commit onto the state it remembers from the commit before,
 * instead of reading the stream again. That must never change a message: a commit maps to the
 * same messages in one big batch, in small batches, alone in a fresh mapper (a replay after a
 * restart), or out of order behind another relay sharing the mapper.
 */
import type { Actor } from "../../../lib/domain/actor";
import { handleCommand } from "../../../lib/eventlog/decider";
import type { Commit, EventLog } from "../../../lib/eventlog/types";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";
import { salesMessages } from "../../../services/kafka-relay/partner-messages";
import { orderDecider } from "../../../services/orders/orders.decider";
import { orderStream, type OrderCommand } from "../../../services/orders/orders.types";

const buyer: Actor = { sub: "ann", roles: ["customer"] };
const admin: Actor = { sub: "root", roles: ["admin"] };

async function sell(log: EventLog, n: number): Promise<void> {
  const id = `o${n}`;
  const run = (command: OrderCommand) => handleCommand(log, orderDecider, orderStream(id), command);
  const at = 1_700_000_000_000 + n;
  await run({
    type: "PlaceOrder",
    id,
    number: `TL-${n}`,
    eventId: "gig",
    organizerId: "org",
    customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
    lines: [{ categoryId: "ga", quantity: 2, categoryName: "GA", unitPrice: 1000 }],
    currency: "RUB",
    expiresAt: at + 60_000,
    actor: buyer,
    at,
  });
  await run({ type: "AttachPayment", id, paymentId: `p${n}`, confirmationUrl: "https://pay", actor: admin, at });
  const tickets = [1, 2].map((i) => ({
    id: `o${n}-t${i}`,
    barcode: `B${n}${i}`,
    series: `TL-${n}`,
    number: String(i),
    categoryId: "ga",
    categoryName: "GA",
    price: 1000,
    currency: "RUB",
  }));
  await run({ type: "IssueTickets", id, paymentId: `p${n}`, paidAmount: 2000, paidCurrency: "RUB", tickets, actor: admin, at });
}

describe("sales messages", () => {
  test("a commit maps to the same messages whatever the batches and the mapper's history", async () => {
    const store = await EmbeddedStore.open({ logs: ["sales"] });
    const log = store.log("sales");
    for (let n = 0; n < 30; n++) await sell(log, n);
    // Later changes to some of the orders: check-ins and refunds, interleaved with new orders.
    for (let n = 0; n < 30; n += 3) {
      const run = (command: OrderCommand) => handleCommand(log, orderDecider, orderStream(`o${n}`), command);
      await run({ type: "CheckInTicket", id: `o${n}`, ticketId: `o${n}-t1`, actor: admin, at: 1 });
      await sell(log, 100 + n);
      await run({ type: "RefundTickets", id: `o${n}`, refundId: `r${n}`, ticketIds: [`o${n}-t2`], actor: admin, at: 2 });
    }
    const all: Commit[] = await log.readFrom(0, 10_000);

    const alone = async (commits: readonly Commit[]) => {
      const out = [];
      for (const c of commits) out.push(...(await salesMessages(log)([c])));
      return out;
    };
    const inBatches = async (size: number) => {
      const mapper = salesMessages(log);
      const out = [];
      for (let i = 0; i < all.length; i += size) out.push(...(await mapper(all.slice(i, i + size))));
      return out;
    };
    const expected = await alone(all);
    expect(expected.map((m) => m.kind)).toEqual(expect.arrayContaining(["orders", "tickets", "refunds"]));
    expect(await inBatches(all.length)).toEqual(expected);
    expect(await inBatches(7)).toEqual(expected);
    expect(await inBatches(1)).toEqual(expected);

    // A replay from the middle through a mapper that has already seen the whole log.
    const shared = salesMessages(log);
    await shared(all);
    const from = Math.floor(all.length / 2);
    expect(await shared(all.slice(from))).toEqual(await alone(all.slice(from)));
    expect(await shared(all.slice(3, 40))).toEqual(await alone(all.slice(3, 40)));
    await store.close();
  });

  test("an order the mapper never saw the beginning of is read from the log", async () => {
    const store = await EmbeddedStore.open({ logs: ["sales"] });
    const log = store.log("sales");
    await sell(log, 1);
    await handleCommand(log, orderDecider, orderStream("o1"), {
      type: "CheckInTicket",
      id: "o1",
      ticketId: "o1-t2",
      actor: admin,
      at: 5,
    } as OrderCommand);
    const commits = await log.readFrom(0, 100);
    const [checkIn] = await salesMessages(log)(commits.slice(-1));
    expect(checkIn).toMatchObject({ kind: "tickets", key: "o1-t2", streamVersion: 4, body: { status: "used", order_id: "o1" } });
  });
});
