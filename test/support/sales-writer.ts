/**
 * Completed orders written to a sales log the way the orders service writes them, through the
 * real decider: OrderPlaced, PaymentAttached, then TicketsIssued with one or two tickets, with
 * realistic customers, categories, seats and barcodes. For the bridge's benchmark and tests.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Actor } from "../../lib/domain/actor";
import { handleCommand } from "../../lib/eventlog/decider";
import type { EventLog } from "../../lib/eventlog/types";
import { orderDecider } from "../../services/orders/orders.decider";
import { orderStream, type OrderCommand, type Ticket } from "../../services/orders/orders.types";

const FIRST = ["Anna", "Ivan", "Olga", "Dmitry", "Maria", "Sergey", "Elena", "Pavel"];
const LAST = ["Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva", "Novikov"];
const CATEGORIES = [
  { categoryId: "dance-floor", categoryName: "Dance floor", unitPrice: 350000 },
  { categoryId: "balcony", categoryName: "Balcony", unitPrice: 550000, seated: true },
  { categoryId: "vip", categoryName: "VIP lounge", unitPrice: 1500000 },
];
const EVENTS = Array.from({ length: 20 }, (_, i) => ({ eventId: `event-${i + 1}`, organizerId: `org-${(i % 5) + 1}` }));
const SYSTEM: Actor = { sub: "system", roles: ["admin"] };

export interface WrittenOrder {
  id: string;
  tickets: string[];
}

function run(log: EventLog, id: string, command: OrderCommand, actor: string) {
  return handleCommand(log, orderDecider, orderStream(id), command, { meta: { correlationId: randomUUID(), actor } });
}

/** The n-th order (n picks the event, category, ticket count and customer). */
export async function writeCompletedOrder(log: EventLog, n: number): Promise<WrittenOrder> {
  const id = randomUUID();
  const number = `TL-${id.replace(/-/g, "").slice(0, 10).toUpperCase()}`;
  const { eventId, organizerId } = EVENTS[n % EVENTS.length];
  const category = CATEGORIES[n % CATEGORIES.length];
  const quantity = 1 + (n % 2);
  const seats = category.seated
    ? Array.from({ length: quantity }, (_, i) => `B:${1 + (n % 30)}:${1 + ((2 * n + i) % 40)}`)
    : undefined;
  const user = `user-${n % 50_000}`;
  const first = FIRST[n % FIRST.length];
  const last = LAST[(n >> 3) % LAST.length];
  const at = Date.now();
  await run(
    log,
    id,
    {
      type: "PlaceOrder",
      id,
      number,
      eventId,
      organizerId,
      customer: {
        email: `${first}.${last}.${n}@example.com`.toLowerCase(),
        phone: `+7900${String(n % 10_000_000).padStart(7, "0")}`,
        firstName: first,
        lastName: last,
      },
      lines: [
        {
          categoryId: category.categoryId,
          quantity,
          ...(seats ? { seats } : {}),
          categoryName: category.categoryName,
          unitPrice: category.unitPrice,
        },
      ],
      currency: "RUB",
      expiresAt: at + 900_000,
      actor: { sub: user, roles: ["customer"] },
      at,
    },
    user,
  );
  const paymentId = randomUUID();
  await run(
    log,
    id,
    {
      type: "AttachPayment",
      id,
      paymentId,
      confirmationUrl: `https://yoomoney.ru/checkout/payments/v2/contract?orderId=${paymentId}`,
      actor: SYSTEM,
      at,
    },
    "orders",
  );
  const tickets: Omit<Ticket, "status">[] = Array.from({ length: quantity }, (_, i) => ({
    id: randomUUID(),
    barcode: randomBytes(16).toString("hex").toUpperCase(),
    series: number,
    number: String(i + 1).padStart(3, "0"),
    categoryId: category.categoryId,
    categoryName: category.categoryName,
    ...(seats ? { row: seats[i].split(":")[1], seat: seats[i].split(":")[2], seatId: seats[i] } : {}),
    price: category.unitPrice,
    currency: "RUB",
  }));
  await run(
    log,
    id,
    {
      type: "IssueTickets",
      id,
      paymentId,
      paidAmount: category.unitPrice * quantity,
      paidCurrency: "RUB",
      tickets,
      actor: SYSTEM,
      at: Date.now(),
    },
    "orders",
  );
  return { id, tickets: tickets.map((t) => t.id) };
}

/** A ticket scanned at the door: a later version of the ticket's message. */
export async function checkInTicket(log: EventLog, order: WrittenOrder, ticketId: string): Promise<void> {
  await run(log, order.id, { type: "CheckInTicket", id: order.id, ticketId, actor: SYSTEM, at: Date.now() }, "tickets");
}
