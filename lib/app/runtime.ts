import { join } from "node:path";
import { ConfigError, type AppConfig } from "../config/config";
import { loadOrCreateDevIssuer } from "../auth/dev-issuer";
import { createTokenVerifier, type TokenVerifier } from "../auth/verifier";
import { orderLinks, orderLinkSecret, type OrderLinks } from "../auth/order-link";
import { loadAdmissionTokens, type AdmissionTokens } from "../auth/admission-token";
import type { JWSAlgorithm } from "jose";
import type { Geocoder } from "../ports/geocoder/geocoder.port";
import { startGeocoderSimulator } from "../ports/geocoder/geocoder.simulator";
import { YandexGeocoderClient } from "../ports/geocoder/yandex-geocoder.client";
import type { AppMetrics } from "../metrics/app-metrics";
import { meteredPayments } from "../metrics/metered-payments";
import { createMailSender } from "../ports/mail/mail.factory";
import type { MailSender } from "../ports/mail/mail.port";
import type { MusicCatalog } from "../ports/music/music.port";
import { startMusicSimulator } from "../ports/music/music.simulator";
import { createPushPort } from "../ports/push/push.factory";
import type { PushSender } from "../ports/push/push.port";
import type { FcmSimulator } from "../ports/push/fcm.simulator";
import { createSmsPort } from "../ports/sms/sms.factory";
import type { SmsSender } from "../ports/sms/sms.port";
import type { SmsSimulator } from "../ports/sms/sms.simulator";
import { YandexMusicClient } from "../ports/music/yandex-music.client";
import { YookassaClient } from "../ports/yookassa/yookassa.client";
import type { PaymentGateway } from "../ports/yookassa/yookassa.port";
import { startYookassaSimulator, type YookassaSimulator } from "../ports/yookassa/yookassa.simulator";
import { EmbeddedStore } from "../store/embedded/embedded-store";
import type { Store } from "../store/types";
import { RunnerRegistry } from "./runner-registry";

/** The bounded contexts, one event log each. */
export const LOGS = ["catalogue", "sales", "users", "notifications", "waiting"] as const;
export type LogName = (typeof LOGS)[number];

export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

export interface NotificationPorts {
  /** E-mail: SMTP when SMTP_URL is set, else .eml files under DATA_DIR/mail. */
  mail: MailSender;
  /** SMS through SMS.ru (or its simulator). */
  sms: SmsSender;
  /** The in-process SMS.ru simulator when SMS_PROVIDER=simulator: what was "sent", faults. */
  smsSimulator: SmsSimulator | null;
  /** Push to devices: FCM HTTP v1 and Web Push (VAPID). */
  push: PushSender;
  /** The in-process FCM simulator when FCM_PROVIDER=simulator: deliveries, device registry, faults. */
  fcmSimulator: FcmSimulator | null;
}

/** What every service of one process shares; built once at start from the configuration. */
export interface Runtime {
  config: AppConfig;
  store: Store;
  verifier: TokenVerifier;
  geocoder: Geocoder;
  music: MusicCatalog;
  payments: PaymentGateway;
  /** The in-process YooKassa simulator when PAYMENT_PROVIDER=simulator (a person pays on its page). */
  paymentSimulator: YookassaSimulator | null;
  /**
   * What notifications are sent with; null in a process that does not run the notification
   * service (a gateway or sales node starts no simulator and makes no key for them).
   */
  notify: NotificationPorts | null;
  /** The buyer's links to an order's page (the payment's return URL). */
  orderLinks: OrderLinks;
  /** The waiting room's admission tokens: issued by its queue, verified where orders are placed. */
  admissions: AdmissionTokens;
  runners: RunnerRegistry;
  /** Our Prometheus figures; every call is a no-op when METRICS_PORT is unset. */
  metrics: AppMetrics;
  /** Unique per process: lease owner and log prefix. */
  instanceId: string;
  /**
   * Work under way that a stop lets finish before any service stops (the gateway's requests);
   * the broker runs them first when it stops (lib/app/app.ts).
   */
  drains: Array<() => Promise<void>>;
  /** Closes the stores and simulators; later calls wait for the first. */
  close(): Promise<void>;
}

export async function createRuntime(
  config: AppConfig,
  logger: Logger,
  instanceId: string,
  metrics: AppMetrics,
): Promise<Runtime> {
  const closers: Array<() => Promise<void>> = [];
  try {
    const store: Store =
      config.store.kind === "mongo"
        ? // Loaded only here: mongoose takes most of a second to load, which the quick start never needs.
          await (await import("../store/mongo/mongo-store")).MongoStore.open({ uri: config.store.uri, sharedConnection: true })
        : await EmbeddedStore.open({
            dataDir: config.store.dataDir,
            fsync: config.store.fsync,
            logs: [...LOGS],
            onWarning: (m) => logger.warn(m),
            onProgress: (m) => logger.info(m),
          });
    closers.push(() => store.close());

    const verifier = await createVerifier(config, logger);
    const geocoder = await createGeocoder(config, logger, closers);
    const music = await createMusic(config, logger, closers);
    const { gateway: payments, simulator: paymentSimulator } = await createPayments(config, logger, closers);
    const notify = config.services.includes("notifications")
      ? await createNotificationPorts(config, store, logger, closers)
      : null;
    const links = orderLinks(config.http.publicUrl, await orderLinkSecret(store, config.orderLinks.secret));
    const admissions = await loadAdmissionTokens(store);
    let closing: Promise<void> | null = null;
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch((err) => logger.warn("close failed:", String(err)));
    };
    return {
      config,
      store,
      verifier,
      geocoder,
      music,
      // Counted at the one place every provider call passes, whichever service makes it.
      payments: meteredPayments(payments, config.payments.provider, metrics),
      paymentSimulator,
      notify,
      orderLinks: links,
      admissions,
      runners: new RunnerRegistry(),
      metrics,
      instanceId,
      drains: [],
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function createNotificationPorts(
  config: AppConfig,
  store: Store,
  logger: Logger,
  closers: Array<() => Promise<void>>,
): Promise<NotificationPorts> {
  const mail = createMailSender(config, logger);
  closers.push(() => mail.close());
  const { sender: sms, simulator: smsSimulator } = await createSmsPort(config.notifications.sms, logger, closers);
  const { sender: push, fcmSimulator } = await createPushPort(config.notifications.push, store, logger, closers);
  return { mail, sms, smsSimulator, push, fcmSimulator };
}

async function createVerifier(config: AppConfig, logger: Logger): Promise<TokenVerifier> {
  const auth = config.auth;
  if (auth.mode === "oidc") {
    return createTokenVerifier({
      issuer: auth.issuer,
      audience: auth.audience,
      clientId: auth.clientId,
      algorithms: auth.algorithms as JWSAlgorithm[],
      keys: { type: "remote", jwksUri: auth.jwksUri },
      logger,
    });
  }
  const dev = await loadOrCreateDevIssuer({ dataDir: auth.dataDir, issuer: auth.issuer, audience: auth.audience });
  return createTokenVerifier({ issuer: dev.issuer, audience: dev.audience, keys: { type: "local", jwks: dev.jwks }, logger });
}

async function createGeocoder(config: AppConfig, logger: Logger, closers: Array<() => Promise<void>>): Promise<Geocoder> {
  const { provider, apiKey, url, timeoutMs } = config.geocoder;
  if (provider === "yandex") return new YandexGeocoderClient({ apiKey: apiKey!, baseUrl: url, timeoutMs });
  const key = "simulator";
  const simulator = await startGeocoderSimulator({ apiKey: key });
  closers.push(() => simulator.close());
  logger.info(`geocoder: built-in simulator at ${simulator.url}`);
  return new YandexGeocoderClient({ apiKey: key, baseUrl: simulator.url, timeoutMs });
}

async function createPayments(
  config: AppConfig,
  logger: Logger,
  closers: Array<() => Promise<void>>,
): Promise<{ gateway: PaymentGateway; simulator: YookassaSimulator | null }> {
  const { provider, shopId, secretKey, url } = config.payments;
  if (provider === "yookassa") return { gateway: new YookassaClient({ shopId, secretKey, baseUrl: url }), simulator: null };
  const port = config.payments.simulator.port;
  const simulator = await startYookassaSimulator({
    shopId,
    secretKey,
    captureWindowMs: 60 * 60_000,
    port,
    // The quick start keeps its payments next to its data, so a buyer's checkout link outlives
    // a restart. A cluster (MongoDB) runs one simulator per node, each for tests only: in memory.
    ...(config.store.kind === "embedded"
      ? {
          stateFile: join(config.store.dataDir, "yookassa-simulator.json"),
          onStateError: (err: Error) => logger.warn(`payments: simulator state not saved: ${err.message}`),
        }
      : {}),
  }).catch((err: NodeJS.ErrnoException) => {
    // Most likely a second quick start on this machine: say which setting moves it.
    if (err.code === "EADDRINUSE") {
      throw new ConfigError(`YOOKASSA_SIMULATOR_PORT: port ${port} is in use; set another, or 0 for any free port`);
    }
    throw err;
  });
  closers.push(() => simulator.close());
  logger.info(`payments: built-in YooKassa simulator at ${simulator.url} (pay on its checkout page)`);
  return { gateway: new YookassaClient({ shopId, secretKey, baseUrl: simulator.apiUrl, retries: 2, backoffMs: 50 }), simulator };
}

async function createMusic(config: AppConfig, logger: Logger, closers: Array<() => Promise<void>>): Promise<MusicCatalog> {
  const { provider, token, url, timeoutMs } = config.music;
  if (provider === "yandex") return new YandexMusicClient({ token, baseUrl: url, timeoutMs });
  const simulator = await startMusicSimulator({});
  closers.push(() => simulator.close());
  logger.info(`music catalogue: built-in simulator at ${simulator.url}`);
  return new YandexMusicClient({ baseUrl: simulator.url, timeoutMs });
}
