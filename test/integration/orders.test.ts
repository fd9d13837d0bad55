import { randomUUID } from "node:crypto";
import { startApp, type App } from "../../lib/app/app";
import { SYSTEM } from "../../lib/app/context";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { projectionsCommand } from "../../lib/repl/projections.command";
import type { EventSales } from "../../services/inventory/inventory.service";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";
import { apiClient, eventually, type ApiResponse } from "../support/api-client";

interface OrderReply {
  id: string;
  status: string;
  amount: number;
  currency: string;
  expiresAt: number;
  payment: { id: string; confirmationUrl: string; closed?: string } | null;
  tickets: Array<{ id: string; barcode: string; categoryId: string; seat?: string; status: string }>;
}

type Availability = Record<string, { available: number; capacity: number }>;

/**
 * Buying tickets in the quick start, with the built-in YooKassa simulator calling our webhook
 * over HTTP the way YooKassa does.
 */
describe("orders and two-stage payments", () => {
  const env = quickStartEnv("orders", { HOLD_TTL_SECONDS: "3" });
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  let ann: string;
  let bob: string;
  let olga: string;
  let checker: string;
  const customer = { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" };

  const sim = () => app.runtime.paymentSimulator!;
  const order = (id: string, token = ann) => api<OrderReply>("GET", `/orders/${id}`, { token });
  const availability = async () => (await api<{ availability: Availability }>("GET", "/events/gig")).body.availability;
  const buy = (
    body: Record<string, unknown>,
    token = ann,
  ): Promise<ApiResponse<OrderReply & { type?: string; data?: unknown }>> =>
    api("POST", "/orders", { token, body: { eventId: "gig", customer, ...body } });

  /** An event of its own for a test (the venue holds 6): one GA category "entry" of `quota` tickets. */
  const sideEvent = async (id: string, quota = 5, price = 120000) => {
    await api("POST", "/events", {
      token: olga,
      body: {
        id,
        venueId: "club",
        name: id,
        category: "exhibition",
        startsAt: "2031-10-01T12:00:00+03:00",
        endsAt: "2031-10-01T14:00:00+03:00",
      },
    });
    const category = { categoryId: "entry", name: "Entry", price, currency: "RUB", kind: "ga", quota };
    expect((await api("POST", `/events/${id}/categories`, { token: olga, body: category })).status).toBe(201);
    expect((await api("POST", `/events/${id}/publish`, { token: olga })).status).toBe(200);
    await eventually(
      () => api<{ availability: Availability }>("GET", `/events/${id}`),
      (r) => r.body.availability?.entry?.available === quota,
    );
    return { eventId: id, items: [{ categoryId: "entry", quantity: 1 }] };
  };

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
    checker = await issuer.mint({ sub: "door", roles: ["checker"], organizerId: "org" });
    ann = await issuer.mint({ sub: "ann", roles: ["customer"] });
    bob = await issuer.mint({ sub: "bob", roles: ["customer"] });
    await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } });
    await api("POST", "/venues", {
      token: olga,
      body: {
        id: "club",
        name: "Club",
        address: "Arbat 1",
        city: "Moscow",
        timezone: "Europe/Moscow",
        layout: {
          sections: [
            {
              id: "B",
              name: "Balcony",
              rows: [
                { id: "1", seats: ["1", "2"] },
                { id: "2", seats: ["1", "2"] },
                { id: "3", seats: ["1", "2"] },
              ],
            },
          ],
        },
      },
    });
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "gig",
        venueId: "club",
        name: "Gig",
        category: "concert",
        startsAt: "2031-06-01T19:00:00+03:00",
        endsAt: "2031-06-01T22:00:00+03:00",
      },
    });
    await api("POST", "/events/gig/categories", {
      token: olga,
      body: { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota: 2 },
    });
    await api("POST", "/events/gig/categories", {
      token: olga,
      body: { categoryId: "balcony", name: "Balcony", price: 250000, currency: "RUB", kind: "seated", seats: ["B:1:1", "B:1:2"] },
    });
    await api("POST", "/events/gig/categories", {
      token: olga,
      body: { categoryId: "standing", name: "Standing", price: 120000, currency: "RUB", kind: "ga", quota: 2 },
    });
    expect((await api("POST", "/events/gig/publish", { token: olga })).status).toBe(200);
    await eventually(availability, (a) => a?.balcony?.available === 2);
  });
  afterAll(async () => app?.stop());

  test("pay on the provider's page: tickets are issued once, then the payment is captured", async () => {
    sim().setFault({ webhook: "duplicate" });
    const placed = await buy({ seats: [{ categoryId: "balcony", seatId: "B:1:1" }] });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: "awaiting_payment", amount: 250000, currency: "RUB", tickets: [] });
    expect(placed.body.payment!.confirmationUrl).toMatch(/\/checkout\//);
    expect(await eventually(availability, (a) => a.balcony.available === 1)).toMatchObject({ balcony: { available: 1 } });

    // The checkout page is a real page a person can use.
    const page = await fetch(placed.body.payment!.confirmationUrl);
    expect(await page.text()).toMatch(/<form[^>]+pay/i);

    sim().pay(placed.body.payment!.id);
    const paid = await eventually(
      () => order(placed.body.id),
      (r) => r.body.status === "paid",
    );
    expect(paid.body.tickets).toHaveLength(1);
    expect(paid.body.tickets[0]).toMatchObject({
      categoryId: "balcony",
      seat: "1",
      status: "active",
      barcode: expect.stringMatching(/^[0-9A-F]{32}$/),
    });
    await eventually(
      async () => sim().payments.get(placed.body.payment!.id)?.status,
      (s) => s === "succeeded",
    );
    sim().setFault(null);
    // Duplicated notifications changed nothing: one issue, one capture.
    expect((await order(placed.body.id)).body.tickets).toHaveLength(1);
    expect(sim().requests.filter((r) => r.path.endsWith("/capture")).length).toBeGreaterThanOrEqual(1);
    expect(
      new Set(
        sim()
          .requests.filter((r) => r.path.endsWith("/capture"))
          .map((r) => r.idempotenceKey),
      ).size,
    ).toBe(1);

    expect((await order(placed.body.id, bob)).status).toBe(404);
    const mine = await api<{ rows: Array<{ id: string }> }>("GET", "/me/orders", { token: ann });
    await eventually(
      () => api<{ rows: Array<{ id: string }> }>("GET", "/me/orders", { token: ann }),
      (r) => r.body.rows.some((o) => o.id === placed.body.id),
    );
    expect(mine.status).toBe(200);
  });

  test("a seat is not sold twice: the second buyer hears SEAT_TAKEN with what is left", async () => {
    const taken = await buy({ seats: [{ categoryId: "balcony", seatId: "B:1:1" }] }, bob);
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ type: "SEAT_TAKEN", data: { seats: ["B:1:1"], available: 1 } });
  });

  test("a declined payment cancels the order and puts the seat back on sale; nothing is captured", async () => {
    const placed = await buy({ seats: [{ categoryId: "balcony", seatId: "B:1:2" }] });
    sim().decline(placed.body.payment!.id);
    const cancelled = await eventually(
      () => order(placed.body.id),
      (r) => r.body.status === "cancelled",
    );
    expect(cancelled.body.tickets).toEqual([]);
    await eventually(availability, (a) => a.balcony.available === 1);
    expect(sim().payments.get(placed.body.payment!.id)?.status).toBe("canceled");
  });

  test("a forged notification is only a hint: the provider's own answer decides", async () => {
    const placed = await buy({ seats: [{ categoryId: "balcony", seatId: "B:1:2" }] });
    const forged = await api("POST", "/payments/yookassa/webhook", {
      body: {
        type: "notification",
        event: "payment.waiting_for_capture",
        object: { ...sim().payments.get(placed.body.payment!.id), status: "waiting_for_capture", paid: true },
      },
    });
    expect(forged.status).toBe(200);
    const unknown = await api("POST", "/payments/yookassa/webhook", {
      body: {
        type: "notification",
        event: "payment.waiting_for_capture",
        object: { ...sim().payments.get(placed.body.payment!.id), id: "no-such-payment", status: "waiting_for_capture" },
      },
    });
    expect(unknown.status).toBe(200);
    expect((await api("POST", "/payments/yookassa/webhook", { body: { hello: "world" } })).status).toBe(400);
    await new Promise((r) => setTimeout(r, 500));
    expect((await order(placed.body.id)).body).toMatchObject({ status: "awaiting_payment", tickets: [] });
    expect(sim().payments.get(placed.body.payment!.id)?.status).toBe("pending");
    await api("POST", `/orders/${placed.body.id}/cancel`, { token: ann });
    await eventually(availability, (a) => a.balcony.available === 1);
  });

  test("the webhook records only our payments: a malformed or foreign notification gets 200, is dropped, and stops nothing", async () => {
    const notify = (object: Record<string, unknown>, event = "payment.waiting_for_capture") =>
      api("POST", "/payments/yookassa/webhook", { body: { type: "notification", event, object } });
    const eve = await issuer.mint({ sub: "eve", roles: ["customer"] });
    const placed = await buy(await sideEvent("webhook-checks"), eve);
    const genuine = sim().payments.get(placed.body.payment!.id)!;
    const claimed = { ...genuine, status: "waiting_for_capture", paid: true };
    // A payment of ours at the provider, but not the one attached to the order it names.
    const foreign = await app.runtime.payments.createPayment({
      amountMinor: 120000,
      currency: "RUB",
      description: "not ours",
      returnUrl: "https://example.com/",
      metadata: { orderId: placed.body.id },
      idempotenceKey: randomUUID(),
    });
    sim().pay(foreign.id);
    const dropped = [
      { ...claimed, id: "not a valid id!" },
      { ...claimed, id: "2f3c1a9e-000f-5000-9000-000000000000" },
      { ...claimed, id: foreign.id },
      { ...claimed, id: foreign.id, metadata: {} },
    ];
    for (const object of dropped) expect((await notify(object)).status).toBe(200);
    const log = app.runtime.store.log("sales");
    for (const object of dropped) expect(await log.readStream(`payment-${object.id as string}`)).toEqual([]);

    // The provider not answering when asked: 503, so that it delivers again; nothing recorded meanwhile.
    sim().setFault({ status: 503, path: `/v3/payments/${genuine.id}` });
    try {
      const unchecked = await notify(claimed);
      expect([unchecked.status, unchecked.body.type]).toEqual([503, "PAYMENT_UNAVAILABLE"]);
    } finally {
      sim().setFault(null);
    }
    expect(await log.readStream(`payment-${genuine.id}`)).toEqual([]);

    // The money flow goes on for everyone: the genuine payment is settled.
    sim().pay(genuine.id);
    await eventually(
      () => order(placed.body.id, eve),
      (r) => r.body.status === "paid",
    );
    await eventually(
      async () => sim().payments.get(genuine.id)?.status,
      (s) => s === "succeeded",
    );
  });

  test("deduplication follows the provider's state: an early notification does not swallow the genuine one", async () => {
    const eve = await issuer.mint({ sub: "eve", roles: ["customer"] });
    const placed = await buy(await sideEvent("early-notice"), eve);
    const pending = sim().payments.get(placed.body.payment!.id)!;
    const early = await api("POST", "/payments/yookassa/webhook", {
      body: {
        type: "notification",
        event: "payment.waiting_for_capture",
        object: { ...pending, status: "waiting_for_capture", paid: true },
      },
    });
    expect(early.status).toBe(200);
    sim().pay(pending.id);
    const paid = await eventually(
      () => order(placed.body.id, eve),
      (r) => r.body.status === "paid",
    );
    expect(paid.body.tickets).toHaveLength(1);
  });

  test("an authorisation whose notification was lost is settled when the order expires, while its seat is free", async () => {
    const placed = await buy({ seats: [{ categoryId: "balcony", seatId: "B:1:2" }] });
    sim().setFault({ webhook: "drop" });
    try {
      sim().pay(placed.body.payment!.id);
      const paid = await eventually(
        () => order(placed.body.id),
        (r) => r.body.status === "paid",
        15_000,
      );
      expect(paid.body.tickets).toHaveLength(1);
      await eventually(
        async () => sim().payments.get(placed.body.payment!.id)?.status,
        (s) => s === "succeeded",
      );
    } finally {
      sim().setFault(null);
    }
    await eventually(availability, (a) => a.balcony.available === 0);
  });

  test("an order that expires unpaid cancels its payment: nobody pays for tickets back on sale", async () => {
    const late = await buy({ items: [{ categoryId: "floor", quantity: 2 }] });
    const expired = await eventually(
      () => order(late.body.id),
      (r) => r.body.status === "expired" && r.body.payment?.closed === "canceled",
      15_000,
    );
    expect(expired.body).toMatchObject({ tickets: [], payment: { id: late.body.payment!.id, closed: "canceled" } });
    expect(sim().payments.get(late.body.payment!.id)).toMatchObject({
      status: "canceled",
      cancellation_details: { party: "merchant" },
    });
    expect(() => sim().pay(late.body.payment!.id)).toThrow(/not pending/);
    const other = await buy({ items: [{ categoryId: "floor", quantity: 2 }] }, bob);
    expect(other.status).toBe(201);
    expect(sim().requests.some((r) => r.path.endsWith(`${late.body.payment!.id}/capture`))).toBe(false);
  });

  test("tickets: listed for their holder, admitted once at the door, refunded and then refused", async () => {
    const placed = await buy({ items: [{ categoryId: "standing", quantity: 2 }] });
    sim().pay(placed.body.payment!.id);
    const paid = await eventually(
      () => order(placed.body.id),
      (r) => r.body.status === "paid",
    );
    const [first, second] = paid.body.tickets;
    expect(first.barcode).not.toBe(second.barcode);

    const mine = await eventually(
      () => api<{ rows: Array<{ id: string; holder: { email: string } }> }>("GET", "/me/tickets", { token: ann }),
      (r) => r.body.rows.some((t) => t.id === first.id),
    );
    expect(mine.body.rows.find((t) => t.id === first.id)?.holder.email).toBe("ann@example.com");
    expect((await api<{ rows: unknown[] }>("GET", `/orders/${placed.body.id}/tickets`, { token: ann })).body.rows).toHaveLength(
      2,
    );
    expect((await api("GET", `/orders/${placed.body.id}/tickets`, { token: bob })).status).toBe(404);

    // Five scanners read the same ticket at once: exactly one lets the holder in.
    const scans = await Promise.all(
      Array.from({ length: 5 }, () => api("POST", "/checkin", { token: checker, body: { barcode: first.barcode } })),
    );
    expect(scans.filter((r) => r.status === 200)).toHaveLength(1);
    const again = scans.filter((r) => r.status !== 200);
    expect(again.every((r) => r.status === 409 && r.body.type === "TICKET_ALREADY_USED")).toBe(true);
    expect((again[0].body.data as { usedAt: number }).usedAt).toEqual(expect.any(Number));
    expect((await api("POST", "/checkin", { token: ann, body: { barcode: second.barcode } })).status).toBe(403);
    expect((await api("POST", "/checkin", { token: checker, body: { barcode: "not-a-barcode" } })).status).toBe(422);
    const otherDoor = await issuer.mint({ sub: "door2", roles: ["checker"], organizerId: "someone-else" });
    expect((await api("POST", "/checkin", { token: otherDoor, body: { barcode: second.barcode } })).status).toBe(404);

    // The organizer refunds the unused ticket: money back, the place back on sale, the barcode dead.
    expect(
      (await api("POST", `/orders/${placed.body.id}/refunds`, { token: ann, body: { ticketIds: [second.id] } })).status,
    ).toBe(403);
    const refund = await api("POST", `/orders/${placed.body.id}/refunds`, { token: olga, body: { ticketIds: [second.id] } });
    expect(refund.status).toBe(202);
    await eventually(
      () => order(placed.body.id),
      (r) => r.body.status === "partially_refunded",
    );
    await eventually(
      async () => [...sim().refunds.values()].filter((r) => r.payment_id === placed.body.payment!.id).length,
      (n) => n === 1,
    );
    expect([...sim().refunds.values()].find((r) => r.payment_id === placed.body.payment!.id)?.amount.value).toBe("1200.00");
    await eventually(availability, (a) => a.standing.available === 1);
    const refused = await api("POST", "/checkin", { token: checker, body: { barcode: second.barcode } });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe("TICKET_NOT_VALID");
  });

  test("cancelling the event refunds every paid order and cancels the unpaid ones", async () => {
    const unpaid = await buy({ items: [{ categoryId: "standing", quantity: 1 }] }, bob);
    expect(unpaid.status).toBe(201);
    expect((await api("POST", "/events/gig/cancel", { token: olga, body: { reason: "the band fell ill" } })).status).toBe(200);
    // No ticket of the event stays valid (a ticket already used at the door is not refunded).
    const orders = await eventually(
      () =>
        api<{ rows: Array<{ id: string; status: string; tickets: Array<{ status: string }> }> }>(
          "GET",
          "/me/orders?pageSize=100",
          { token: ann },
        ),
      (r) => r.body.rows.every((o) => o.status !== "paid" && o.tickets.every((t) => t.status !== "active")),
      15_000,
    );
    const refunded = orders.body.rows.filter((o) => o.status === "refunded");
    // The two seat orders paid earlier; the standing order keeps its used ticket and its earlier refund.
    expect(refunded).toHaveLength(2);
    for (const o of refunded) {
      const detail = await order(o.id);
      const payment = sim().payments.get(detail.body.payment!.id)!;
      // Every captured kopeck went back.
      await eventually(
        async () => sim().payments.get(payment.id)?.refunded_amount?.value,
        (v) => v === payment.amount.value,
      );
    }
    // Unpaid: cancelled by the cancellation, or already expired (the test's holds last 3 s).
    const unpaidNow = await eventually(
      () => order(unpaid.body.id, bob),
      (r) => ["cancelled", "expired"].includes(r.body.status),
    );
    expect(unpaidNow.body.tickets).toEqual([]);
  });

  test("the organizer sees capacity, holds, sales and revenue per category; a rebuild gives the same numbers", async () => {
    // An event of its own, bought by a customer of its own: the tests above leave theirs as they are.
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "fest",
        venueId: "club",
        name: "Fest",
        category: "festival",
        startsAt: "2031-07-01T19:00:00+03:00",
        endsAt: "2031-07-01T23:00:00+03:00",
      },
    });
    for (const body of [
      { categoryId: "fan", name: "Fan zone", price: 200000, currency: "RUB", kind: "ga", quota: 3 },
      { categoryId: "vip", name: "VIP", price: 500000, currency: "RUB", kind: "ga", quota: 2 },
    ])
      expect((await api("POST", "/events/fest/categories", { token: olga, body })).status).toBe(201);
    expect((await api("POST", "/events/fest/publish", { token: olga })).status).toBe(200);
    const kim = await issuer.mint({ sub: "kim", roles: ["customer"] });
    const sales = (token = olga, id = "fest") => api<EventSales>("GET", `/events/${id}/sales`, { token });
    await eventually(sales, (r) => r.status === 200 && r.body.open && r.body.totals.available === 5);

    const paidOrder = async (items: Array<{ categoryId: string; quantity: number }>) => {
      const placed = await buy({ eventId: "fest", items }, kim);
      expect(placed.status).toBe(201);
      sim().pay(placed.body.payment!.id);
      return (
        await eventually(
          () => order(placed.body.id, kim),
          (r) => r.body.status === "paid",
        )
      ).body;
    };
    const fans = await paidOrder([{ categoryId: "fan", quantity: 2 }]);
    await paidOrder([{ categoryId: "vip", quantity: 1 }]);
    // A buyer still paying holds the last fan ticket.
    await app.broker.call(
      "inventory.hold",
      {
        eventId: "fest",
        holdId: randomUUID(),
        orderId: randomUUID(),
        customerKey: "user:lee",
        requests: [{ categoryId: "fan", quantity: 1 }],
        expiresAt: Date.now() + 15 * 60_000,
      },
      { meta: { user: SYSTEM } },
    );
    const refund = await api("POST", `/orders/${fans.id}/refunds`, { token: olga, body: { ticketIds: [fans.tickets[0].id] } });
    expect(refund.status).toBe(202);

    const expected: EventSales = {
      eventId: "fest",
      open: true,
      currency: "RUB",
      categories: [
        {
          id: "fan",
          name: "Fan zone",
          kind: "ga",
          price: 200000,
          currency: "RUB",
          capacity: 3,
          held: 1,
          sold: 1,
          available: 1,
          revenue: 200000,
          refunded: 200000,
        },
        {
          id: "vip",
          name: "VIP",
          kind: "ga",
          price: 500000,
          currency: "RUB",
          capacity: 2,
          held: 0,
          sold: 1,
          available: 1,
          revenue: 500000,
          refunded: 0,
        },
      ],
      totals: { capacity: 5, held: 1, sold: 2, available: 2, revenue: 700000, refunded: 200000 },
    };
    // The refund puts the ticket back on sale in the background.
    const live = await eventually(sales, (r) => r.body.totals.sold === 2 && r.body.totals.refunded === 200000);
    expect(live.status).toBe(200);
    expect(live.body).toEqual(expected);

    // Only the event's organizer and admins see its sales.
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    expect((await sales(admin)).body).toEqual(expected);
    const otherOrganizer = await issuer.mint({ sub: "oleg", roles: ["organizer"], organizerId: "someone-else" });
    expect((await sales(otherOrganizer)).status).toBe(403);
    expect((await sales(kim)).status).toBe(403);
    expect((await sales(olga, "no-such-event")).status).toBe(404);

    // The same numbers come back from the log alone.
    await projectionsCommand(app.broker, { action: "rebuild", name: "sales.stock" });
    await eventually(
      () => projectionsCommand(app.broker, {}),
      (t) => /sales\.stock@g2\s+idle/.test(t) && !/sales\.stock@g1/.test(t),
    );
    expect((await sales()).body).toEqual(expected);
  });

  test("free tickets: issued at once without a payment, refunded without money moving", async () => {
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "open-day",
        venueId: "club",
        name: "Open day",
        category: "exhibition",
        startsAt: "2031-08-01T12:00:00+03:00",
        endsAt: "2031-08-01T18:00:00+03:00",
      },
    });
    const category = { categoryId: "entry", name: "Entry", price: 0, currency: "RUB", kind: "ga", quota: 2 };
    expect((await api("POST", "/events/open-day/categories", { token: olga, body: category })).status).toBe(201);
    expect((await api("POST", "/events/open-day/publish", { token: olga })).status).toBe(200);
    const lea = await issuer.mint({ sub: "lea", roles: ["customer"] });
    const paymentsBefore = sim().payments.size;
    const refundsBefore = sim().refunds.size;
    const request = { eventId: "open-day", customer, items: [{ categoryId: "entry", quantity: 2 }] };
    const placed = await eventually(
      () => api<OrderReply>("POST", "/orders", { token: lea, body: request, headers: { "idempotency-key": "open-day-lea-1" } }),
      (r) => r.status !== 400,
    );
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: "paid", amount: 0, payment: null });
    expect(placed.body.tickets).toHaveLength(2);
    expect(sim().payments.size).toBe(paymentsBefore);
    // A retry of the same request answers the same order and issues nothing more.
    const again = await api<OrderReply>("POST", "/orders", {
      token: lea,
      body: request,
      headers: { "idempotency-key": "open-day-lea-1" },
    });
    expect(again.body).toMatchObject({ id: placed.body.id, status: "paid" });
    expect(again.body.tickets.map((t) => t.barcode)).toEqual(placed.body.tickets.map((t) => t.barcode));
    // Sold out: the quota was 2.
    const more = await api("POST", "/orders", {
      token: lea,
      body: { ...request, items: [{ categoryId: "entry", quantity: 1 }] },
    });
    expect(more.status).toBe(409);

    const refund = await api("POST", `/orders/${placed.body.id}/refunds`, { token: olga, body: {} });
    expect(refund.status).toBe(202);
    await eventually(
      () => order(placed.body.id, lea),
      (r) => r.body.status === "refunded",
    );
    expect(sim().refunds.size).toBe(refundsBefore);
    await eventually(
      () => api<{ availability: Availability }>("GET", "/events/open-day"),
      (r) => r.body.availability?.entry?.available === 2,
    );
  });

  test("the provider down: 503 PAYMENT_UNAVAILABLE keeps the hold, and the same request again completes the order", async () => {
    await api("POST", "/events", {
      token: olga,
      body: {
        id: "talk",
        venueId: "club",
        name: "Talk",
        category: "business",
        startsAt: "2031-09-01T12:00:00+03:00",
        endsAt: "2031-09-01T14:00:00+03:00",
      },
    });
    const category = { categoryId: "seat", name: "Seat", price: 90000, currency: "RUB", kind: "ga", quota: 1 };
    expect((await api("POST", "/events/talk/categories", { token: olga, body: category })).status).toBe(201);
    expect((await api("POST", "/events/talk/publish", { token: olga })).status).toBe(200);
    const talk = async () => (await api<{ availability: Availability }>("GET", "/events/talk")).body.availability;
    await eventually(talk, (a) => a?.seat?.available === 1);

    const request = { eventId: "talk", customer, items: [{ categoryId: "seat", quantity: 1 }] };
    const headers = { "idempotency-key": "talk-ann-0001" };
    sim().setFault({ status: 503, path: "/v3/payments" });
    let first: ApiResponse<OrderReply & { type?: string }>;
    try {
      first = await api("POST", "/orders", { token: ann, body: request, headers });
    } finally {
      sim().setFault(null);
    }
    expect([first.status, first.body.type]).toEqual([503, "PAYMENT_UNAVAILABLE"]);
    // The ticket stays held for this buyer while they retry: nobody else takes it meanwhile.
    expect((await api("POST", "/orders", { token: bob, body: request })).body.type).toBe("SOLD_OUT");

    const second = await api<OrderReply>("POST", "/orders", { token: ann, body: request, headers });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ status: "awaiting_payment", amount: 90000 });
    expect(second.body.payment!.confirmationUrl).toMatch(/\/checkout\//);
    expect([...sim().payments.values()].filter((p) => p.metadata?.orderId === second.body.id)).toHaveLength(1);
  });
  test("ownership first: someone who is not a party gets GET's 404 from every order route, whatever the order's state", async () => {
    const { eventId, items } = await sideEvent("walk", 5, 50000);
    const walker = await issuer.mint({ sub: "walker", roles: ["customer"] });
    const request = { eventId, customer, items };
    const place = () =>
      eventually(
        () => api<OrderReply>("POST", "/orders", { token: walker, body: request }),
        (r) => r.status === 201,
      );
    const rival = await issuer.mint({ sub: "oleg", roles: ["organizer"], organizerId: "someone-else" });
    const strangersSee = async (id: string) => {
      for (const [who, token] of [
        ["bob", bob],
        ["another organizer", rival],
      ] as const) {
        const got = await api("GET", `/orders/${id}`, { token });
        expect([who, got.status]).toEqual([who, 404]);
        const attempts = [
          await api("POST", `/orders/${id}/cancel`, { token }),
          await api("GET", `/orders/${id}/tickets`, { token }),
          ...(token === rival ? [await api("POST", `/orders/${id}/refunds`, { token: rival, body: {} })] : []),
        ];
        for (const attempt of attempts) expect([who, attempt.status, attempt.body]).toEqual([who, 404, got.body]);
      }
    };
    // Still open (the test's holds last 3 s: checked at once).
    const open = (await place()).body;
    await strangersSee(open.id);
    const cancelled = (await place()).body;
    expect((await api("POST", `/orders/${cancelled.id}/cancel`, { token: walker })).status).toBe(200);
    await strangersSee(cancelled.id);
    const paid = (await place()).body;
    sim().pay(paid.payment!.id);
    await eventually(
      () => order(paid.id, walker),
      (r) => r.body.status === "paid",
    );
    await strangersSee(paid.id);
    await eventually(
      () => order(open.id, walker),
      (r) => r.body.status === "expired",
      15_000,
    );
    await strangersSee(open.id);
    // Nobody else's attempt changed anything: the paid order keeps its tickets, the cancelled one is the buyer's doing.
    expect((await order(paid.id, walker)).body.tickets.map((t) => t.status)).toEqual(["active"]);
    expect((await order(cancelled.id, walker)).body.status).toBe("cancelled");
  });
});
