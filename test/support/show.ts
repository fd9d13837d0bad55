import type { DevIssuer } from "../../lib/auth/dev-issuer";
import type { apiClient } from "./api-client";

/**
 * The smallest sale of the quick-start tests: organizer "org", the 100-place hall "hall", and
 * the event "show" with one general-admission category "ga" of `quota` places, published.
 */
export async function openShow(api: ReturnType<typeof apiClient>, issuer: DevIssuer, quota = 50): Promise<void> {
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const organizer = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  await api("POST", "/organizers", { token: admin, body: { id: "org", name: "Org" } });
  await api("POST", "/venues", {
    token: organizer,
    body: { id: "hall", name: "Hall", address: "Tverskaya 1", city: "Moscow", timezone: "Europe/Moscow", capacity: 100 },
  });
  await api("POST", "/events", {
    token: organizer,
    body: {
      id: "show",
      venueId: "hall",
      name: "Show",
      category: "concert",
      startsAt: "2031-05-01T19:00:00+03:00",
      endsAt: "2031-05-01T22:00:00+03:00",
    },
  });
  expect(
    (
      await api("POST", "/events/show/categories", {
        token: organizer,
        body: { categoryId: "ga", name: "GA", price: 100000, currency: "RUB", kind: "ga", quota },
      })
    ).status,
  ).toBe(201);
  expect((await api("POST", "/events/show/publish", { token: organizer })).status).toBe(200);
}
