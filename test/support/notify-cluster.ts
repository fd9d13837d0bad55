/**
 * A distributed cluster with the notifications in a process of their own, fed through Kafka:
 * gateway, sales (catalogue, orders, tickets, users) and notify, over NATS and the MongoDB
 * protocol, mailing to the shared Mailpit; one GA event on sale, and buyers who pay on the
 * payment simulator's checkout page.
 */
import { randomUUID } from "node:crypto";
import type { DevIssuer } from "../../lib/auth/dev-issuer";
import { apiClient, eventually } from "./api-client";
import { startCluster, tail, type Cluster, type ClusterNode } from "./cluster";
import { loadInfra, mongoServerUri } from "./infra";
import { sharedMailpit, type MailpitSummary } from "./mailpit";
import { devIssuerOf } from "./quickstart";

export interface NotifyCluster {
  cluster: Cluster;
  api: ReturnType<typeof apiClient>;
  issuer: DevIssuer;
  mail: ReturnType<typeof sharedMailpit>;
  /** The notifications process (after a restart, the new one). */
  notifier(): ClusterNode;
  /** The last lines of every process, for failure messages. */
  logs(): string;
  /** An order of one ticket placed by a buyer of its own (a buyer may hold 20 tickets of an event), paid at once. */
  buy(recipient: string): Promise<string>;
  /** The receipts (e-mails with the tickets' PDF) that reached `recipient`; other kinds (reminders) left out. */
  receipts(recipient: string): Promise<MailpitSummary[]>;
}

/** E-mails distinct by Message-ID: the notification's own id, the same on a repeat. */
export const distinct = (messages: MailpitSummary[]): Set<string> => new Set(messages.map((m) => m.MessageID));

export async function startNotifyCluster(env: Record<string, string>): Promise<NotifyCluster> {
  const infra = loadInfra();
  const mail = sharedMailpit();
  const run = randomUUID().slice(0, 8);
  const cluster = await startCluster(
    {
      gateway: "api,runners",
      sales: "organizers,artists,venues,events,inventory,waitingRoom,orders,tickets,users,runners",
      notify: "notifications,runners",
    },
    {
      TRANSPORTER: infra.natsUrl,
      NAMESPACE: `notify-${run}`,
      MONGO_URI: mongoServerUri("mongo", `notify_${run}`),
      KAFKA_BROKERS: infra.kafkaBrokers.join(","),
      NOTIFICATIONS_TOPIC: `notifications-${run}`,
      NOTIFICATIONS_GROUP: `notifications-${run}`,
      SMTP_URL: mail.smtpUrl,
      RUNNER_POLL_MS: "200",
      RATE_LIMIT_PER_MINUTE: "0",
      ...env,
    },
  );
  const api = apiClient(cluster.apiUrl);
  const issuer = await devIssuerOf(cluster.env);
  const admin = await issuer.mint({ sub: "root", roles: ["admin"] });
  const organizer = await issuer.mint({ sub: "olga", roles: ["organizer"], organizerId: "org" });
  const ok = async (method: string, path: string, token: string, body?: unknown) => {
    // Right after start the gateway may not see the sales node's services yet: 503, retry.
    const answer = await eventually(
      () => api(method, path, { token, body }),
      (r) => r.status !== 503,
      30_000,
    );
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  try {
    await ok("POST", "/organizers", admin, { id: "org", name: "Org" });
    const venue = { id: "hall", name: "Hall", address: "Arbat 1", city: "Moscow", timezone: "Europe/Moscow", capacity: 500 };
    await ok("POST", "/venues", organizer, venue);
    await ok("POST", "/events", organizer, {
      id: "show",
      venueId: "hall",
      name: "Show",
      category: "concert",
      startsAt: "2031-06-01T19:00:00+03:00",
      endsAt: "2031-06-01T22:00:00+03:00",
    });
    const category = { categoryId: "floor", name: "Floor", price: 150000, currency: "RUB", kind: "ga", quota: 500 };
    await ok("POST", "/events/show/categories", organizer, category);
    await ok("POST", "/events/show/publish", organizer);
  } catch (err) {
    await cluster.stop();
    throw err;
  }

  async function buy(recipient: string): Promise<string> {
    const customer = await issuer.mint({ sub: `buyer-${randomUUID().slice(0, 8)}`, roles: ["customer"] });
    const placed = await eventually(
      () =>
        api<{ id: string; payment: { confirmationUrl: string } }>("POST", "/orders", {
          token: customer,
          body: {
            eventId: "show",
            customer: { email: recipient, phone: "+79001234567", firstName: "Ann" },
            items: [{ categoryId: "floor", quantity: 1 }],
          },
        }),
      (r) => r.status !== 503,
      30_000,
    );
    if (placed.status !== 201) throw new Error(`POST /orders: ${placed.status} ${JSON.stringify(placed.body)}`);
    const paid = await fetch(`${placed.body.payment.confirmationUrl}/pay`, { method: "POST", redirect: "manual" });
    if (paid.status >= 400) throw new Error(`paying order ${placed.body.id}: ${paid.status}`);
    return placed.body.id;
  }

  return {
    cluster,
    api,
    issuer,
    mail,
    notifier: () => cluster.nodes.find((n) => n.name === "notify")!,
    logs: () => cluster.nodes.map((n) => tail(n, 30)).join("\n"),
    buy,
    receipts: async (recipient) => (await mail.client.messagesTo(recipient)).filter((m) => m.Attachments > 0),
  };
}
