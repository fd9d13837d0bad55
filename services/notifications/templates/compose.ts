/**
 * From what happened (NotificationData) to one language-neutral Message: which tickets a
 * kind is about, which facts it lists, and the phrases of the chosen language.
 */
import type { EventView, NotificationData, TicketView } from "../notification-data";
import { fitSms, formatDateTime, formatMoney, formatShortDateTime, ticketPlace, venueAddress, venueLine } from "./format";
import type { Context, Fact, KindPhrases, Message, Phrases } from "./message";

/** Push titles and bodies are cut by the phone anyway; a long name is cut here, readably. */
const PUSH_NAME_MAX = 48;

/** Subjects, SMS and push are single lines: a line break in a name must not split (or inject) a header. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function when(startsAt: number | null, timeZone: string, p: Phrases): { long: string; short: string } {
  if (startsAt === null) return { long: p.openDate, short: "" };
  return { long: formatDateTime(startsAt, timeZone, p.locale), short: formatShortDateTime(startsAt, timeZone, p.locale) };
}

function eventFacts(event: EventView, p: Phrases, whenLong: string): Fact[] {
  return [
    { label: p.labels.event, value: event.name },
    { label: p.labels.date, value: whenLong },
    { label: p.labels.venue, value: event.venue.name },
    { label: p.labels.address, value: venueAddress(event.venue) },
  ];
}

function ticketBlocks(tickets: TicketView[], p: Phrases, withBarcode: boolean): Message["tickets"] {
  return tickets.map((ticket, i) => ({
    title: p.ticketTitle(i + 1, tickets.length),
    facts: [
      { label: p.labels.category, value: ticket.categoryName },
      { label: p.labels.place, value: ticketPlace(ticket, p.place) },
      { label: p.labels.price, value: formatMoney(ticket.price, ticket.currency, p.locale) },
      ...(withBarcode ? [{ label: p.labels.barcode, value: ticket.barcode }] : []),
    ],
  }));
}

/** The parts every kind shares, from its context and phrases; facts and tickets come per kind. */
function message<C extends Context>(
  p: Phrases,
  phrases: KindPhrases<C>,
  c: C,
  url: string,
  parts: { facts: Fact[]; tickets: Message["tickets"] },
): Message {
  const push = phrases.push({ ...c, name: clip(c.name, PUSH_NAME_MAX) });
  return {
    locale: p.locale,
    subject: oneLine(phrases.subject(c)),
    heading: phrases.heading(c),
    paragraphs: [p.greeting(c.firstName), ...phrases.body(c)],
    facts: parts.facts,
    tickets: parts.tickets,
    action: { label: p.viewOrder, url },
    footer: p.footer,
    sms: fitSms((name) => oneLine(phrases.sms({ ...c, name })), c.name),
    push: { title: oneLine(push.title), body: oneLine(push.body) },
  };
}

export function compose(data: NotificationData, p: Phrases): Message {
  const { order, event } = data;
  const active = order.tickets.filter((t) => t.status === "active");
  const time = when(event.startsAt, event.timezone, p);
  const base: Context = {
    name: event.name,
    when: time.long,
    whenShort: time.short,
    venue: event.venue.name,
    address: venueAddress(event.venue),
    number: order.number,
    amount: formatMoney(order.amount, order.currency, p.locale),
    count: active.length,
    firstName: order.customer.firstName,
  };
  const orderFact: Fact = { label: p.labels.order, value: order.number };
  const amountFact: Fact = { label: p.labels.amount, value: base.amount };
  const countFact = (count: number): Fact => ({ label: p.labels.tickets, value: p.tickets(count) });

  switch (data.kind) {
    case "order_paid":
      return message(p, p.order_paid, base, order.url, {
        facts: [orderFact, amountFact, ...eventFacts(event, p, time.long)],
        tickets: ticketBlocks(active, p, true),
      });
    case "order_not_paid": {
      const c = { ...base, count: order.tickets.length, reason: data.reason };
      return message(p, p.order_not_paid, c, order.url, {
        facts: [orderFact, amountFact, countFact(c.count), ...eventFacts(event, p, time.long).slice(0, 2)],
        tickets: [],
      });
    }
    case "refund_done": {
      const ids = new Set(data.refund.ticketIds);
      const refunded = order.tickets.filter((t) => ids.has(t.id));
      const c = {
        ...base,
        count: refunded.length,
        refunded: formatMoney(data.refund.amount, data.refund.currency, p.locale),
        scope: refunded.length === 0 ? "amount" : refunded.length === order.tickets.length ? "all" : "some",
      };
      return message(p, p.refund_done, c, order.url, {
        facts: [orderFact, { label: p.labels.refunded, value: c.refunded }, ...eventFacts(event, p, time.long).slice(0, 2)],
        tickets: ticketBlocks(refunded, p, false),
      });
    }
    case "event_cancelled": {
      const c = { ...base, count: order.tickets.length, money: data.money, cancelReason: event.cancelReason };
      const reason = event.cancelReason ? [{ label: p.labels.reason, value: event.cancelReason }] : [];
      return message(p, p.event_cancelled, c, order.url, {
        facts: [...eventFacts(event, p, time.long), ...reason, orderFact, countFact(c.count)],
        tickets: [],
      });
    }
    case "event_changed": {
      const before = data.before;
      const beforeTime = when(before.startsAt, before.timezone, p);
      const dateChanged = before.startsAt !== event.startsAt || beforeTime.long !== time.long;
      const venueChanged = venueLine(before.venue) !== venueLine(event.venue);
      const c = { ...base, dateChanged, venueChanged, beforeWhen: beforeTime.long, beforeVenue: venueLine(before.venue) };
      const changes: Fact[] = [
        ...(dateChanged
          ? [
              { label: p.labels.dateBefore, value: beforeTime.long },
              { label: p.labels.dateAfter, value: time.long },
            ]
          : [{ label: p.labels.date, value: time.long }]),
        ...(venueChanged
          ? [
              { label: p.labels.venueBefore, value: venueLine(before.venue) },
              { label: p.labels.venueAfter, value: venueLine(event.venue) },
            ]
          : [{ label: p.labels.venue, value: venueLine(event.venue) }]),
      ];
      return message(p, p.event_changed, c, order.url, {
        facts: [{ label: p.labels.event, value: event.name }, ...changes, orderFact, countFact(c.count)],
        tickets: [],
      });
    }
    case "event_reminder":
      return message(p, p.event_reminder, base, order.url, {
        facts: [...eventFacts(event, p, time.long), orderFact, countFact(base.count)],
        tickets: ticketBlocks(active, p, false),
      });
  }
}
