import { randomUUID } from "node:crypto";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually } from "./api-client";
import { uniqueRecipient } from "./mailpit";

export interface PaidOrder {
  id: string;
  status: string;
  payment: { id: string; confirmationUrl: string } | null;
  tickets: Array<{ id: string; barcode: string; status: string }>;
}

export interface Buyer {
  sub: string;
  token: string;
  email: string;
  phone: string;
}

/**
 * A sale for notification tests: an organizer, a hall of 60 seats and a published event
 * `eventId` with one GA category "floor" of `quota`; buyers of their own (each with an
 * address no other test uses) who pay on the payment simulator's checkout page over HTTP.
 */
export async function openNotifySale(api: ReturnType<typeof apiClient>, issuer: DevIssuer, eventId: string, quota = 50) {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const ok = async (method: string, path: string, token: string, body?: unknown) => {
    const answer = await api(method, path, { token, body });
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  await ok("POST", "/organizers", admin, { id: "org", name: "Org" });
  const seats = Array.from({ length: 60 }, (_, i) => String(i + 1));
  await ok("POST", "/venues", olga, {
    id: "hall",
    name: "Hall",
    address: "Arbat 1",
    city: "Moscow",
    timezone: "Europe/Moscow",
    layout: { sections: [{ id: "A", name: "Stalls", rows: [{ id: "1", seats }] }] },
  });
  await ok("POST", "/events", olga, {
    id: eventId,
    venueId: "hall",
    name: "Gig",
    category: "concert",
    startsAt: "2031-06-01T19:00:00+03:00",
    endsAt: "2031-06-01T22:00:00+03:00",
  });
  const category = { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota };
  await ok("POST", `/events/${eventId}/categories`, olga, category);
  await ok("POST", `/events/${eventId}/publish`, olga);
  await eventually(
    () => api<{ availability?: Record<string, { available: number }> }>("GET", `/events/${eventId}`),
    (r) => r.body.availability?.floor?.available === quota,
  );

  const buyer = async (label: string): Promise<Buyer> => {
    const sub = `${label}-${randomUUID().slice(0, 8)}`;
    const phone = `+7900${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    return { sub, token: await issuer.mint({ sub, roles: ["customer"] }), email: uniqueRecipient(label), phone };
  };

  /** Places an order and pays it on the simulator's page; resolves once its tickets are issued. */
  const buyAndPay = async (who: Buyer, quantity = 1, event = eventId): Promise<PaidOrder> => {
    const placed = await api<PaidOrder>("POST", "/orders", {
      token: who.token,
      body: { eventId: event, customer: { email: who.email, phone: who.phone }, items: [{ categoryId: "floor", quantity }] },
    });
    if (placed.status !== 201) throw new Error(`POST /orders: ${placed.status} ${JSON.stringify(placed.body)}`);
    const paid = await fetch(`${placed.body.payment!.confirmationUrl}/pay`, { method: "POST", redirect: "manual" });
    if (paid.status >= 400) throw new Error(`paying ${placed.body.id}: ${paid.status}`);
    const order = await eventually(
      () => api<PaidOrder>("GET", `/orders/${placed.body.id}`, { token: who.token }),
      (r) => r.body.status === "paid",
      60_000,
    );
    return order.body;
  };

  return { admin, olga, buyer, buyAndPay };
}
