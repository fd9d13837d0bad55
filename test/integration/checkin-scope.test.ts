import { startApp, type App } from "../../lib/app/app";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually, type ApiResponse } from "../support/api-client";
import { devIssuerOf, quickStartEnv } from "../support/quickstart";

interface Ticket {
  id: string;
  barcode: string;
}

/**
 * Who may admit which ticket at the door, over HTTP in the quick start: a checker works for
 * one organizer (and, when its token lists events, only those), and a ticket outside its
 * scope is answered exactly like a barcode that does not exist.
 */
describe("check-in is scoped to the checker's organizer and events", () => {
  const env = quickStartEnv("checkin-scope");
  let app: App;
  let api: ReturnType<typeof apiClient>;
  let issuer: DevIssuer;
  /** One free ticket per event, bought by a customer. */
  const tickets: Record<string, Ticket[]> = {};

  const checkIn = (token: string, ticket: Ticket): Promise<ApiResponse> =>
    api("POST", "/checkin", { token, body: { barcode: ticket.barcode } });
  const checker = (sub: string, organizerId?: string, eventIds?: string[]): Promise<string> =>
    issuer.mint({ sub, roles: ["checker"], organizerId, eventIds });

  async function eventOf(token: string, organizerId: string, eventId: string, venueId: string): Promise<void> {
    const created = await api("POST", "/events", {
      token,
      body: {
        id: eventId,
        venueId,
        name: `Event ${eventId}`,
        category: "concert",
        startsAt: "2031-06-01T19:00:00+03:00",
        endsAt: "2031-06-01T22:00:00+03:00",
      },
    });
    expect(created.status).toBe(201);
    const category = { categoryId: "entry", name: "Entry", price: 0, currency: "RUB", kind: "ga", quota: 3 };
    expect((await api("POST", `/events/${eventId}/categories`, { token, body: category })).status).toBe(201);
    expect((await api("POST", `/events/${eventId}/publish`, { token })).status).toBe(200);
    const buyer = await issuer.mint({ sub: `buyer-${organizerId}`, roles: ["customer"] });
    const request = {
      eventId,
      customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
      items: [{ categoryId: "entry", quantity: 3 }],
    };
    // The order service learns of the published event from the log, a moment later.
    const placed = await eventually(
      () => api<{ status: string; tickets: Ticket[] }>("POST", "/orders", { token: buyer, body: request }),
      (r) => r.status === 201,
    );
    expect(placed.body.status).toBe("paid");
    tickets[eventId] = placed.body.tickets;
    // The door finds tickets in the read model.
    await eventually(
      () => api<unknown[]>("GET", `/me/tickets`, { token: buyer }),
      (r) => (r.body as unknown as { rows: Ticket[] }).rows.some((t) => t.id === placed.body.tickets[2].id),
    );
  }

  beforeAll(async () => {
    app = await startApp(env);
    api = apiClient(app.apiUrl!);
    issuer = await devIssuerOf(env);
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    for (const org of ["org-a", "org-b"]) {
      expect((await api("POST", "/organizers", { token: admin, body: { id: org, name: org } })).status).toBe(201);
      const olga = await issuer.mint({ sub: `olga-${org}`, roles: ["organizer"], organizerId: org });
      const venue = {
        id: `hall-${org}`,
        name: "Hall",
        address: "Arbat 1",
        city: "Moscow",
        timezone: "Europe/Moscow",
        layout: { sections: [{ id: "A", name: "A", rows: [{ id: "1", seats: ["1", "2", "3"] }] }] },
      };
      expect((await api("POST", "/venues", { token: olga, body: venue })).status).toBe(201);
      await eventOf(olga, org, `${org}-1`, venue.id);
      if (org === "org-a") await eventOf(olga, org, `${org}-2`, venue.id);
    }
  });
  afterAll(async () => app?.stop());

  test("another organizer's ticket is answered like an unknown barcode, and stays valid", async () => {
    const doorA = await checker("door-a", "org-a");
    const unknown = await checkIn(doorA, { id: "none", barcode: "0123456789ABCDEF0123456789ABCDEF" });
    expect(unknown.status).toBe(404);
    const foreign = await checkIn(doorA, tickets["org-b-1"][0]);
    expect({ status: foreign.status, body: foreign.body }).toEqual({ status: unknown.status, body: unknown.body });

    expect((await checkIn(doorA, tickets["org-a-1"][0])).body).toMatchObject({ status: "used" });
    expect((await checkIn(doorA, tickets["org-a-2"][0])).body).toMatchObject({ status: "used" });
    const doorB = await checker("door-b", "org-b");
    expect((await checkIn(doorB, tickets["org-b-1"][0])).body).toMatchObject({ status: "used" });
  });

  test("a checker limited to events admits only those events' tickets", async () => {
    const doorA1 = await checker("door-a1", "org-a", ["org-a-1"]);
    const other = await checkIn(doorA1, tickets["org-a-2"][1]);
    expect(other.status).toBe(404);
    expect(other.body.type).toBe("TICKET_NOT_FOUND");
    expect((await checkIn(doorA1, tickets["org-a-1"][1])).body).toMatchObject({ status: "used" });
    // The ticket it could not see was not touched.
    expect((await checkIn(await checker("door-a", "org-a"), tickets["org-a-2"][1])).body).toMatchObject({ status: "used" });
  });

  test("a checker without an organizer is refused, naming the missing claim; an admin is not", async () => {
    for (const roles of [["checker"], ["checker", "customer"]] as const) {
      const unscoped = await issuer.mint({ sub: "door-x", roles: [...roles] });
      const refused = await checkIn(unscoped, tickets["org-b-1"][2]);
      expect(refused.status).toBe(403);
      expect(refused.body.type).toBe("FORBIDDEN");
      expect(refused.body.message).toMatch(/"organizer_id"/);
    }
    // Still valid: the refusals admitted nobody.
    const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
    expect((await checkIn(admin, tickets["org-b-1"][2])).body).toMatchObject({ status: "used" });
    const adminChecker = await issuer.mint({ sub: "root-door", roles: ["checker", "admin"] });
    expect((await checkIn(adminChecker, tickets["org-a-1"][2])).body).toMatchObject({ status: "used" });
  });
});
