import { availableParallelism } from "node:os";
import { join } from "node:path";
import { BROWSER_PUSH_SERVICES, isHostPattern } from "../ports/push/push-endpoints";
import { ConfigError, type EnvReader } from "./env";

export interface NotificationsConfig {
  mail: {
    /** smtp:// or smtps:// (with user:password@ when the server asks); unset: .eml files under `dir`. */
    smtpUrl?: string;
    /** The From header, e.g. `Tickets <tickets@example.com>`; its domain also ends every Message-ID. */
    from: string;
    /** Where e-mails are written when there is no SMTP server (the quick start). */
    dir: string;
    timeoutMs: number;
  };
  sms: {
    /** "simulator" runs the built-in SMS.ru simulator in-process. */
    provider: "smsru" | "simulator";
    apiId?: string;
    url?: string;
    /** The sender name registered with SMS.ru (`from`); absent: the account's default. */
    sender?: string;
    timeoutMs: number;
  };
  push: {
    fcm: {
      /** "simulator" runs the built-in FCM simulator (token endpoint + messages:send) in-process. */
      provider: "fcm" | "simulator";
      /** The service account key file (JSON with project_id, client_email, private_key, token_uri). */
      serviceAccountFile?: string;
      /** Instead of https://fcm.googleapis.com (a proxy, the simulator in tests). */
      url?: string;
      timeoutMs: number;
    };
    /** Both keys or neither; neither: a pair is made once and kept in the store, shared by every node. */
    vapid: { publicKey?: string; privateKey?: string; subject: string };
    /** The push services a browser's subscription may point at (`host` or `*.domain`). */
    webPushHosts: string[];
  };
  /** The internal Kafka topic the ticket service feeds and notification nodes consume as one group. */
  topic: string;
  /** Messages that cannot be read go here, with the reason in a header. */
  deadLetterTopic: string;
  consumerGroup: string;
  /** Partitions of `topic` when we create it: at most this many notification nodes share the work. */
  partitions: number;
  /** A notification node silent this long is dropped from the group and its partitions move (heartbeats every fifth of it). */
  sessionTimeoutMs: number;
  /** A reminder goes this long before the event starts. */
  reminderBeforeMs: number;
  /** How often a node looks for events entering that window. */
  reminderSweepMs: number;
  /** Attempts per notification before it is `failed`. */
  maxAttempts: number;
  /** The first retry waits about this long (doubled per attempt, with jitter), at most `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Threads that make the receipts' PDFs (0: on the main thread). */
  renderThreads: number;
  /** Sends in flight per node: also the most a SIGKILLed node may leave to be sent again. */
  concurrency: number;
  /** A notification being sent by a node that went silent for this long may be taken over. */
  claimMs: number;
}

function webPushHosts(e: EnvReader): string[] {
  const hosts = e.list("WEBPUSH_ALLOWED_HOSTS", BROWSER_PUSH_SERVICES).map((h) => h.toLowerCase());
  const bad = hosts.filter((h) => !isHostPattern(h));
  if (bad.length) throw new ConfigError(`WEBPUSH_ALLOWED_HOSTS must list hosts or *.domains, got "${bad.join(", ")}"`);
  return hosts;
}

export function loadNotifications(e: EnvReader, dataDir: string): NotificationsConfig {
  const from = e.string("MAIL_FROM", "Tickets <tickets@localhost>");
  if (!/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/.test(from)) {
    throw new ConfigError(`MAIL_FROM must be an address, optionally with a name: "Tickets <tickets@example.com>", got "${from}"`);
  }
  const smsProvider = e.oneOf("SMS_PROVIDER", ["smsru", "simulator"] as const, "simulator");
  const fcmProvider = e.oneOf("FCM_PROVIDER", ["fcm", "simulator"] as const, "simulator");
  const vapidPublic = e.string("VAPID_PUBLIC_KEY");
  const vapidPrivate = e.string("VAPID_PRIVATE_KEY");
  if (!!vapidPublic !== !!vapidPrivate) {
    throw new ConfigError("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both, or neither to keep a generated pair");
  }
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const subject = e.string("VAPID_SUBJECT", `mailto:${address}`);
  if (!/^(mailto:|https:\/\/)/.test(subject))
    throw new ConfigError(`VAPID_SUBJECT must be a mailto: or https: URL, got "${subject}"`);
  const topic = e.string("NOTIFICATIONS_TOPIC", "ticketing.notifications");
  const retryBaseMs = e.int("NOTIFY_RETRY_BASE_MS", 1000, { min: 10, max: 3_600_000 });
  return {
    mail: {
      smtpUrl: e.url("SMTP_URL", ["smtp", "smtps"]),
      from,
      dir: join(dataDir, "mail"),
      timeoutMs: e.int("SMTP_TIMEOUT_MS", 15_000, { min: 100 }),
    },
    sms: {
      provider: smsProvider,
      apiId: smsProvider === "smsru" ? e.required("SMSRU_API_ID", "when SMS_PROVIDER=smsru") : undefined,
      url: e.url("SMSRU_URL", ["http", "https"]),
      sender: e.string("SMS_SENDER"),
      timeoutMs: e.int("SMS_TIMEOUT_MS", 10_000, { min: 100 }),
    },
    push: {
      fcm: {
        provider: fcmProvider,
        serviceAccountFile: fcmProvider === "fcm" ? e.required("FCM_SERVICE_ACCOUNT_FILE", "when FCM_PROVIDER=fcm") : undefined,
        url: e.url("FCM_URL", ["http", "https"]),
        timeoutMs: e.int("FCM_TIMEOUT_MS", 10_000, { min: 100 }),
      },
      vapid: { publicKey: vapidPublic, privateKey: vapidPrivate, subject },
      webPushHosts: webPushHosts(e),
    },
    topic,
    deadLetterTopic: e.string("NOTIFICATIONS_DLQ_TOPIC", `${topic}.dlq`),
    consumerGroup: e.string("NOTIFICATIONS_GROUP", "ticketing-notifications"),
    partitions: e.int("NOTIFICATIONS_PARTITIONS", 6, { min: 1, max: 1000 }),
    // The broker refuses sessions outside group.min/max.session.timeout.ms (6 s and 30 min by default).
    sessionTimeoutMs: e.int("NOTIFICATIONS_SESSION_TIMEOUT_MS", 15_000, { min: 6_000, max: 300_000 }),
    reminderBeforeMs: e.int("NOTIFY_REMINDER_BEFORE_MINUTES", 24 * 60, { min: 1, max: 60 * 24 * 60 }) * 60_000,
    reminderSweepMs: e.int("NOTIFY_REMINDER_SWEEP_MS", 30_000, { min: 500, max: 3_600_000 }),
    maxAttempts: e.int("NOTIFY_MAX_ATTEMPTS", 10, { min: 1, max: 100 }),
    retryBaseMs,
    retryMaxMs: e.int("NOTIFY_RETRY_MAX_MS", Math.max(600_000, retryBaseMs), { min: retryBaseMs }),
    concurrency: e.int("NOTIFY_CONCURRENCY", 16, { min: 1, max: 1000 }),
    // As many as cores (up to 4): the event loop mostly waits on I/O, and on the 2-core bench
    // machine two threads sent 69-79 receipts/s where one sent 61-64 (bench:notifications).
    renderThreads: e.int("NOTIFY_RENDER_THREADS", Math.min(4, availableParallelism()), { min: 0, max: 64 }),
    claimMs: e.int("NOTIFY_CLAIM_MS", 60_000, { min: 1000, max: 3_600_000 }),
  };
}
