import { readFileSync } from "node:fs";
import { ConfigError, EnvReader, type Env } from "./env";
import {
  brokerList,
  parsePartners,
  PARTNER_FORMATS,
  readCa,
  saslMechanism,
  type KafkaConnection,
  type PartnerConfig,
  type PartnerTopicKind,
} from "./partners";
import { loadNotifications, type NotificationsConfig } from "./notifications";

export { ConfigError };

/** Every service this code base can run; SERVICES picks a subset per process. */
export const SERVICE_NAMES = [
  "api",
  "organizers",
  "artists",
  "venues",
  "events",
  "inventory",
  "waitingRoom",
  "orders",
  "tickets",
  "users",
  "kafka-relay",
  "notifications",
  "runners",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
export interface KafkaConfig {
  /** Our own cluster (KAFKA_BROKERS); partners without a connection of their own are served on it. */
  connection?: KafkaConnection;
  /** Our installation's id in the `application-id` header. */
  applicationId: string;
  partners: PartnerConfig[];
}

export interface AppConfig {
  nodeId?: string;
  namespace: string;
  services: ServiceName[];
  /** e.g. nats://nats:4222; unset runs every service in one process without a transporter. */
  transporter?: string;
  logLevel: LogLevel;
  logFormat: "short" | "json";
  http: { port: number; host: string; corsOrigins: string[]; publicUrl: string; rateLimitPerMinute: number };
  /**
   * The key of the buyer's order-page links (lib/auth/order-link.ts); when unset, one is made
   * once and kept in the store (so under DATA_DIR in the quick start), shared by every node.
   */
  orderLinks: { secret?: string };
  /** Prometheus metrics of this process on their own port (METRICS_PORT); absent: off. */
  metrics?: { port: number; host: string };
  /** `/api/ready` says not_ready while a local runner is more than `maxLag` commits behind its log's head. */
  ready: { maxLag: number };
  store: { kind: "embedded"; dataDir: string; fsync: boolean } | { kind: "mongo"; uri: string };
  auth:
    | { mode: "oidc"; issuer: string; audience: string; jwksUri?: string; clientId?: string; algorithms: string[] }
    | { mode: "dev"; issuer: string; audience: string; dataDir: string };
  kafka?: KafkaConfig;
  /** "simulator" runs the built-in HTTP simulator in-process (quick start, demos). */
  geocoder: { provider: "yandex" | "simulator"; apiKey?: string; url?: string; timeoutMs: number };
  music: { provider: "yandex" | "simulator"; token?: string; url?: string; timeoutMs: number };
  runners: {
    pollMs: number;
    leaseMs: number;
    batchSize: number;
    /** A parked key of a partitioned subscription is tried again after this, doubled each time... */
    parkedRetryMs: number;
    /** ...up to this. */
    parkedRetryMaxMs: number;
  };
  /** How long a stop waits for requests under way (at the gateway, then calls from other nodes). */
  shutdown: { graceMs: number };
  sales: { holdTtlMs: number };
  /** How long a buyer admitted by an event's waiting room may start an order (services/waiting-room). */
  waitingRoom: { admissionTtlMs: number };
  /** E-mail, SMS and push, and the notification pipeline (lib/config/notifications.ts). */
  notifications: NotificationsConfig;
  payments: {
    /** "simulator" runs the built-in YooKassa simulator in-process (quick start, demos, tests). */
    provider: "yookassa" | "simulator";
    /** The built-in simulator's port (0: any). */
    simulator: { port: number };
    shopId: string;
    secretKey: string;
    url?: string;
    /** Source addresses (IPs or CIDR ranges) webhooks are accepted from. */
    webhookAllowlist: string[];
    /** Proxies whose X-Forwarded-For is believed. */
    trustedProxies: string[];
    /** An order awaiting payment this long gets its payment fetched, in case its notification was lost. */
    reconcileAfterMs: number;
  };
}

/** YooKassa's published notification sources (external-apis.md). */
export const YOOKASSA_WEBHOOK_SOURCES = [
  "185.71.76.0/27",
  "185.71.77.0/27",
  "77.75.153.0/25",
  "77.75.154.128/25",
  "77.75.156.11",
  "77.75.156.35",
  "2a02:5180::/32",
];

/**
 * Reads the whole configuration once, at start. Anything wrong throws a ConfigError naming
 * the variable; nothing is read from the environment anywhere else.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const e = new EnvReader(env);
  const port = e.port("PORT", 3000);
  const host = e.string("HOST", "0.0.0.0");
  const publicUrl = e.url("PUBLIC_URL", ["http", "https"], `http://localhost:${port}`)!;
  const dataDir = e.string("DATA_DIR", "./data");
  const mongoUri = e.url("MONGO_URI", ["mongodb", "mongodb+srv"]);
  const transporter = e.url("TRANSPORTER", ["nats", "tls"]);
  const audience = e.string("OIDC_AUDIENCE", "ticketing-api");
  const issuer = e.url("OIDC_ISSUER", ["http", "https"]);
  // The development issuer signs with a key from DATA_DIR: fine on a laptop, never in a
  // cluster, so outside the quick start it must be asked for by name.
  const authMode = e.oneOf("AUTH_MODE", ["oidc", "dev"] as const, issuer || transporter ? "oidc" : "dev");
  if (authMode === "oidc" && !issuer) {
    throw new ConfigError(
      "OIDC_ISSUER is required when TRANSPORTER is set (AUTH_MODE=dev uses the development issuer: never in production)",
    );
  }

  const services = e.list("SERVICES", ["*"]);
  const unknown = services.filter((s) => s !== "*" && !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length)
    throw new ConfigError(`SERVICES has unknown service(s) ${unknown.join(", ")}; known: ${SERVICE_NAMES.join(", ")}`);

  if (transporter && !mongoUri) {
    throw new ConfigError("MONGO_URI is required when TRANSPORTER is set: the embedded store belongs to one process");
  }

  return {
    nodeId: e.string("NODE_ID"),
    namespace: e.string("NAMESPACE", "ticketing"),
    services: services.includes("*") ? [...SERVICE_NAMES] : (services as ServiceName[]),
    transporter,
    logLevel: e.oneOf<LogLevel>("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace"], "info"),
    logFormat: e.oneOf("LOG_FORMAT", ["short", "json"] as const, "short"),
    http: {
      port,
      host,
      corsOrigins: e.list("CORS_ORIGINS"),
      publicUrl,
      rateLimitPerMinute: e.int("RATE_LIMIT_PER_MINUTE", 1200, { min: 0 }),
    },
    // Its own port, apart from the API's: scraped from inside the cluster, never published.
    metrics: e.raw("METRICS_PORT") ? { port: e.int("METRICS_PORT", 0, { min: 1, max: 65535 }), host } : undefined,
    ready: { maxLag: e.int("READY_MAX_LAG", 1000, { min: 0 }) },
    store: mongoUri ? { kind: "mongo", uri: mongoUri } : { kind: "embedded", dataDir, fsync: e.bool("EMBEDDED_FSYNC", false) },
    auth:
      authMode === "oidc"
        ? {
            mode: "oidc",
            issuer: issuer!,
            audience,
            jwksUri: e.url("OIDC_JWKS_URI", ["http", "https"]),
            clientId: e.string("OIDC_CLIENT_ID"),
            algorithms: e.list("OIDC_ALGORITHMS", ["RS256"]),
          }
        : {
            mode: "dev",
            issuer: e.url("DEV_ISSUER", ["http", "https"], `http://localhost:${port}/dev-issuer`)!,
            audience,
            dataDir,
          },
    kafka: loadKafka(e, env),
    geocoder: loadGeocoder(e),
    music: {
      provider: e.oneOf("MUSIC_PROVIDER", ["yandex", "simulator"] as const, "simulator"),
      token: e.string("MUSIC_TOKEN"),
      url: e.url("MUSIC_URL", ["http", "https"]),
      timeoutMs: e.int("MUSIC_TIMEOUT_MS", 3000, { min: 100 }),
    },
    sales: { holdTtlMs: e.int("HOLD_TTL_SECONDS", 900, { min: 1, max: 86_400 }) * 1000 },
    waitingRoom: { admissionTtlMs: e.int("WAITING_ROOM_ADMISSION_TTL_MS", 600_000, { min: 1000, max: 86_400_000 }) },
    orderLinks: { secret: loadOrderLinkSecret(e) },
    payments: loadPayments(e, port),
    notifications: loadNotifications(e, dataDir),
    runners: loadRunners(e),
    shutdown: { graceMs: e.int("SHUTDOWN_GRACE_MS", 10_000, { min: 0, max: 600_000 }) },
  };
}

function loadRunners(e: EnvReader): AppConfig["runners"] {
  const parkedRetryMs = e.int("RUNNER_PARKED_RETRY_MS", 1000, { min: 10 });
  return {
    pollMs: e.int("RUNNER_POLL_MS", 1000, { min: 10 }),
    leaseMs: e.int("RUNNER_LEASE_MS", 15_000, { min: 100 }),
    batchSize: e.int("RUNNER_BATCH_SIZE", 500, { min: 1, max: 10_000 }),
    parkedRetryMs,
    // The cap of the backoff: below the first pause it would mean nothing.
    parkedRetryMaxMs: e.int("RUNNER_PARKED_RETRY_MAX_MS", Math.max(300_000, parkedRetryMs), { min: parkedRetryMs }),
  };
}

function loadOrderLinkSecret(e: EnvReader): string | undefined {
  const secret = e.string("ORDER_LINK_SECRET");
  if (secret !== undefined && !/^[A-Za-z0-9_-]{32,}$/.test(secret)) {
    throw new ConfigError(
      "ORDER_LINK_SECRET must be at least 32 characters of A-Z, a-z, 0-9, _ and - (e.g. openssl rand -hex 32)",
    );
  }
  return secret;
}

function loadPayments(e: EnvReader, httpPort: number): AppConfig["payments"] {
  const provider = e.oneOf("PAYMENT_PROVIDER", ["yookassa", "simulator"] as const, "simulator");
  const real = provider === "yookassa";
  return {
    provider,
    // Next to the API by default, so a checkout link a buyer was given still leads somewhere
    // after a restart; with PORT=0 (tests) any free port.
    simulator: { port: e.port("YOOKASSA_SIMULATOR_PORT", httpPort > 0 && httpPort < 65535 ? httpPort + 1 : 0) },
    shopId: real ? e.required("YOOKASSA_SHOP_ID", "when PAYMENT_PROVIDER=yookassa") : "simulator-shop",
    secretKey: real ? e.required("YOOKASSA_SECRET_KEY", "when PAYMENT_PROVIDER=yookassa") : "simulator-secret",
    url: e.url("YOOKASSA_URL", ["http", "https"]),
    // The simulator calls from this machine; the real service from its published ranges.
    webhookAllowlist: e.list("YOOKASSA_WEBHOOK_ALLOWLIST", real ? YOOKASSA_WEBHOOK_SOURCES : ["127.0.0.1", "::1"]),
    trustedProxies: e.list("TRUSTED_PROXIES"),
    reconcileAfterMs: e.int("PAYMENT_RECONCILE_AFTER_MS", 60_000, { min: 100, max: 86_400_000 }),
  };
}

function loadGeocoder(e: EnvReader): AppConfig["geocoder"] {
  const provider = e.oneOf("GEOCODER_PROVIDER", ["yandex", "simulator"] as const, "simulator");
  return {
    provider,
    apiKey: provider === "yandex" ? e.required("GEOCODER_API_KEY", "when GEOCODER_PROVIDER=yandex") : undefined,
    url: e.url("GEOCODER_URL", ["http", "https"]),
    timeoutMs: e.int("GEOCODER_TIMEOUT_MS", 5000, { min: 100 }),
  };
}

function loadKafkaConnection(e: EnvReader, clientId: string): KafkaConnection | undefined {
  if (!e.raw("KAFKA_BROKERS")) return undefined;
  const mechanism = e.raw("KAFKA_SASL_MECHANISM");
  const caFile = e.string("KAFKA_SSL_CA_FILE");
  return {
    brokers: brokerList("KAFKA_BROKERS", e.raw("KAFKA_BROKERS")),
    clientId,
    ssl: e.bool("KAFKA_SSL", !!caFile),
    caFile,
    ...(caFile === undefined ? {} : { ca: readCa("KAFKA_SSL_CA_FILE", caFile) }),
    sasl: mechanism
      ? {
          mechanism: saslMechanism("KAFKA_SASL_MECHANISM", mechanism),
          username: e.required("KAFKA_SASL_USERNAME", "when KAFKA_SASL_MECHANISM is set"),
          password: e.required("KAFKA_SASL_PASSWORD", "when KAFKA_SASL_MECHANISM is set"),
        }
      : undefined,
  };
}

/** Topic names of the partner served on our own cluster when there is no KAFKA_PARTNERS_FILE. */
const DEFAULT_TOPICS: Record<PartnerTopicKind, [variable: string, name: string]> = {
  organizers: ["KAFKA_TOPIC_ORGANIZERS", "organizers"],
  events: ["KAFKA_TOPIC_EVENTS", "events"],
  orders: ["KAFKA_TOPIC_ORDERS", "orders"],
  refunds: ["KAFKA_TOPIC_REFUNDS", "refunds"],
  tickets: ["KAFKA_TOPIC_TICKETS", "tickets"],
  music: ["KAFKA_TOPIC_MUSIC", "music.events"],
};

function loadKafka(e: EnvReader, env: Env): KafkaConfig | undefined {
  const clientId = e.string("KAFKA_CLIENT_ID", "ticketing");
  const connection = loadKafkaConnection(e, clientId);
  const applicationId = e.string("PARTNER_APPLICATION_ID", "ticketland");
  const file = e.string("KAFKA_PARTNERS_FILE");
  if (file) {
    let json: string;
    try {
      json = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`KAFKA_PARTNERS_FILE cannot be read: ${(err as Error).message}`);
    }
    return {
      connection,
      applicationId,
      partners: parsePartners(`KAFKA_PARTNERS_FILE ${file}`, json, { applicationId, clientId, connection }, env),
    };
  }
  if (!connection) return undefined;
  const format = e.oneOf("KAFKA_PARTNER_FORMAT", PARTNER_FORMATS, "json");
  const topics: PartnerConfig["topics"] = {};
  for (const [kind, [variable, name]] of Object.entries(DEFAULT_TOPICS) as [PartnerTopicKind, [string, string]][]) {
    topics[kind] = { name: e.string(variable, name), format: kind === "music" ? "json" : format };
  }
  return { connection, applicationId, partners: [{ id: "default", applicationId, schemaVersion: "1.0", connection, topics }] };
}
