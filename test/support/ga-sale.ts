import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { eventually, type apiClient } from "./api-client";

/**
 * One organizer selling one general-admission category ("floor", 1500.00 RUB) of event
 * "show" at a hall of its own, published and visible on the event page. Returns the
 * organizer's token.
 */
export async function openGaSale(api: ReturnType<typeof apiClient>, issuer: DevIssuer, quota: number): Promise<string> {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const olga = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } });
  const venue = { id: "hall", name: "Hall", address: "Arbat 1", city: "Moscow", timezone: "Europe/Moscow", capacity: quota };
  expect((await api("POST", "/venues", { token: olga, body: venue })).status).toBe(201);
  const event = {
    id: "show",
    venueId: "hall",
    name: "Show",
    category: "concert",
    startsAt: "2031-06-01T19:00:00+03:00",
    endsAt: "2031-06-01T22:00:00+03:00",
  };
  expect((await api("POST", "/events", { token: olga, body: event })).status).toBe(201);
  const category = { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota };
  expect((await api("POST", "/events/show/categories", { token: olga, body: category })).status).toBe(201);
  expect((await api("POST", "/events/show/publish", { token: olga })).status).toBe(200);
  await eventually(
    () => api<{ availability: Record<string, { available: number }> }>("GET", "/events/show"),
    (r) => r.body.availability?.floor?.available === quota,
  );
  return olga;
}
