import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually } from "./api-client";

/** The quick start's own shape of an order, as far as a buyer's test reads it. */
export interface PlacedOrder {
  id: string;
  status: string;
  payment: { id: string; confirmationUrl: string } | null;
  tickets: Array<{ id: string; barcode: string; status: string }>;
}

/**
 * The smallest real sale through the REST API: an organizer, a venue of four seats, a
 * published event with one GA category of `capacity` at 2500.00 RUB (250000 kopecks), and a
 * customer's token to buy with.
 */
export async function openSmallSale(api: ReturnType<typeof apiClient>, issuer: DevIssuer, eventId: string, capacity = 4) {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const organizer = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const customer = await issuer.mint({ sub: "ann", roles: ["customer"] });
  const ok = async (method: string, path: string, token: string, body?: unknown) => {
    const answer = await api(method, path, { token, body });
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };
  await ok("POST", "/organizers", admin, { id: "org", name: "Org" });
  await ok("POST", "/venues", organizer, {
    id: "club",
    name: "Club",
    address: "Arbat 1",
    city: "Moscow",
    timezone: "Europe/Moscow",
    layout: { sections: [{ id: "A", name: "Stalls", rows: [{ id: "1", seats: ["1", "2", "3", "4"] }] }] },
  });
  await ok("POST", "/events", organizer, {
    id: eventId,
    venueId: "club",
    name: 'Night <Gig> & "Friends"',
    category: "concert",
    startsAt: "2031-06-01T19:00:00+03:00",
    endsAt: "2031-06-01T22:00:00+03:00",
  });
  await ok("POST", `/events/${eventId}/categories`, organizer, {
    categoryId: "floor",
    name: "Floor",
    price: 250000,
    currency: "RUB",
    kind: "ga",
    capacity,
  });
  await ok("POST", `/events/${eventId}/publish`, organizer);
  await eventually(
    () => api<{ availability?: Record<string, { available: number }> }>("GET", `/events/${eventId}`),
    (r) => r.body.availability?.floor?.available === capacity,
  );
  const buy = async (quantity = 2) =>
    (
      await ok("POST", "/orders", customer, {
        eventId,
        customer: { email: "ann@example.com", phone: "+79001234567", firstName: "Ann" },
        items: [{ categoryId: "floor", quantity }],
      })
    ).body as unknown as PlacedOrder;
  return { admin, organizer, customer, buy };
}
