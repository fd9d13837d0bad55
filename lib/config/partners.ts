import { readFileSync } from "node:fs";
import { EVENT_CATEGORIES, type EventCategory } from "../domain/event-categories";
import { CURRENCIES, type Currency } from "../domain/money";
import { ConfigError, type Env } from "./env";

export type SaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

/** How to reach one Kafka cluster: ours, or a partner's. */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  /** PEM file with the CA that signed the brokers' certificates. */
  caFile?: string;
  /** Its content, read when the configuration is loaded (a missing file is a configuration error, not a crash later). */
  ca?: string;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** The contract's topics (partner-streams.md) plus the music service's feed of our events. */
export const PARTNER_TOPIC_KINDS = ["organizers", "events", "orders", "refunds", "tickets", "music"] as const;
export type PartnerTopicKind = (typeof PARTNER_TOPIC_KINDS)[number];

export const PARTNER_FORMATS = ["json", "protobuf"] as const;
export type PartnerFormat = (typeof PARTNER_FORMATS)[number];

export interface PartnerTopic {
  name: string;
  format: PartnerFormat;
}

/** The provider's protobuf streams we consume (partner-streams.md section 2). */
export const INBOUND_TOPIC_KINDS = ["partners", "events", "orders", "refundRequests"] as const;
export type InboundTopicKind = (typeof INBOUND_TOPIC_KINDS)[number];

/** What we consume from a partner (a ticketing provider), over the partner's connection. */
export interface PartnerInbound {
  /** Kafka consumer group: every node running the bridge shares the partitions. */
  groupId: string;
  /** Topic name per stream; streams not listed are not consumed. */
  topics: Partial<Record<InboundTopicKind, string>>;
  /** Where messages that cannot be decoded or applied go, with the reason and the original bytes. */
  deadLetterTopic: string;
  /** Currency of the provider's prices (the contract does not carry one). */
  currency: Currency;
  /** IANA zone imported events are shown in (the contract carries none). */
  timezone: string;
  /** How long a message whose event or order has not arrived yet (another topic) waits before the dead-letter topic. */
  referenceWaitMs: number;
  /**
   * The provider's category ids (its dictionary grows) → our categories. An id not listed is
   * taken when it spells one of ours ("concert"), else it is "other".
   */
  categories: Record<string, EventCategory>;
}

/** One consumer of our streams: its own connection, topics, format and checkpoints. */
export interface PartnerConfig {
  id: string;
  /** Our installation's id in the `application-id` header. */
  applicationId: string;
  schemaVersion: string;
  connection: KafkaConnection;
  /** Only the kinds listed are published to this partner (none for a partner we only consume). */
  topics: Partial<Record<PartnerTopicKind, PartnerTopic>>;
  /** The partner's streams we consume, if any. */
  inbound?: PartnerInbound;
}

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
const MECHANISMS: SaslMechanism[] = ["plain", "scram-sha-256", "scram-sha-512"];
/** The music feed has no protobuf schema in the contract. */
const JSON_ONLY: PartnerTopicKind[] = ["music"];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function brokerList(where: string, value: unknown): string[] {
  const list = typeof value === "string" ? value.split(",").map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${where} must list at least one host:port`);
  for (const broker of list) {
    if (typeof broker !== "string" || !/^[^:\s]+:\d{1,5}$/.test(broker))
      throw new ConfigError(`${where} must be host:port entries, got ${JSON.stringify(broker)}`);
  }
  return list as string[];
}

export function saslMechanism(where: string, value: unknown): SaslMechanism {
  const mechanism = typeof value === "string" ? value.toLowerCase() : value;
  if (!(MECHANISMS as unknown[]).includes(mechanism))
    throw new ConfigError(`${where} must be one of ${MECHANISMS.join(", ")}, got ${JSON.stringify(value)}`);
  return mechanism as SaslMechanism;
}

function text(where: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || value.trim() === "") throw new ConfigError(`${where} must be a non-empty string`);
  return value.trim();
}

function oneOf<T extends string>(where: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value))
    throw new ConfigError(`${where} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

function checkKeys(where: string, value: Json, allowed: string[]): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new ConfigError(`${where} has unknown field(s) ${unknown.join(", ")} (allowed: ${allowed.join(", ")})`);
}

function connectionOf(where: string, value: unknown, env: Env, clientId: string): KafkaConnection {
  if (!isObject(value)) throw new ConfigError(`${where} must be an object with brokers and security`);
  checkKeys(where, value, ["brokers", "security", "sasl", "caFile"]);
  const security = oneOf(`${where}.security`, value.security, SECURITY_PROTOCOLS, "PLAINTEXT");
  const wantsSasl = security.startsWith("SASL_");
  let sasl: KafkaConnection["sasl"];
  if (wantsSasl) {
    if (!isObject(value.sasl)) throw new ConfigError(`${where}.sasl is required when security is ${security}`);
    checkKeys(`${where}.sasl`, value.sasl, ["mechanism", "username", "passwordEnv"]);
    const mechanism = saslMechanism(`${where}.sasl.mechanism`, value.sasl.mechanism);
    const username = text(`${where}.sasl.username`, value.sasl.username);
    // The password never sits in the file: it names the variable that holds it.
    const passwordEnv = text(`${where}.sasl.passwordEnv`, value.sasl.passwordEnv);
    const password = env[passwordEnv]?.trim();
    if (!password) throw new ConfigError(`${passwordEnv} is required by ${where}.sasl.passwordEnv`);
    sasl = { mechanism, username, password };
  } else if (value.sasl !== undefined) {
    throw new ConfigError(`${where}.sasl is only allowed with security SASL_PLAINTEXT or SASL_SSL, not ${security}`);
  }
  const ssl = security === "SSL" || security === "SASL_SSL";
  if (value.caFile !== undefined && !ssl) throw new ConfigError(`${where}.caFile needs security SSL or SASL_SSL`);
  const caFile = value.caFile === undefined ? undefined : text(`${where}.caFile`, value.caFile);
  return {
    brokers: brokerList(`${where}.brokers`, value.brokers),
    clientId,
    ssl,
    caFile,
    ...(caFile === undefined ? {} : { ca: readCa(`${where}.caFile`, caFile) }),
    sasl,
  };
}

/**
 * The CA certificate a TLS connection trusts, read now: a file that is missing, unreadable or
 * not a PEM certificate is refused naming where it was configured, like any other bad value.
 */
export function readCa(where: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable" : `cannot be read (${code ?? String(err)})`;
    throw new ConfigError(`${where} "${file}" ${why}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new ConfigError(`${where} "${file}" is not a PEM certificate (no BEGIN CERTIFICATE block)`);
  return pem;
}

function topicName(where: string, value: unknown): string {
  const name = text(where, value);
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) throw new ConfigError(`${where} is not a valid Kafka topic name: "${name}"`);
  return name;
}

function inboundOf(where: string, value: unknown, partnerId: string, clientId: string, outbound: string[]): PartnerInbound {
  if (!isObject(value)) throw new ConfigError(`${where} must be an object with topics and deadLetterTopic`);
  checkKeys(where, value, ["groupId", "topics", "deadLetterTopic", "currency", "timezone", "referenceWaitMs", "categories"]);
  const rawTopics = value.topics;
  if (!isObject(rawTopics) || Object.keys(rawTopics).length === 0)
    throw new ConfigError(`${where}.topics must name at least one of ${INBOUND_TOPIC_KINDS.join(", ")}`);
  checkKeys(`${where}.topics`, rawTopics, [...INBOUND_TOPIC_KINDS]);
  const topics: PartnerInbound["topics"] = {};
  for (const kind of INBOUND_TOPIC_KINDS) {
    if (rawTopics[kind] === undefined) continue;
    const name = topicName(`${where}.topics.${kind}`, rawTopics[kind]);
    // Consuming what we publish would feed our own messages back as the provider's.
    if (outbound.includes(name)) throw new ConfigError(`${where}.topics.${kind} "${name}" is also a topic we publish to`);
    if (Object.values(topics).includes(name)) throw new ConfigError(`${where}.topics.${kind} "${name}" is named twice`);
    topics[kind] = name;
  }
  const deadLetterTopic = topicName(`${where}.deadLetterTopic`, value.deadLetterTopic ?? `${partnerId}.inbound.dead-letters`);
  if (Object.values(topics).includes(deadLetterTopic) || outbound.includes(deadLetterTopic))
    throw new ConfigError(`${where}.deadLetterTopic "${deadLetterTopic}" must be a topic of its own`);
  const timezone = text(`${where}.timezone`, value.timezone, "UTC");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw new ConfigError(`${where}.timezone must be an IANA time zone such as Europe/Moscow, got "${timezone}"`);
  }
  const wait = value.referenceWaitMs ?? 5000;
  if (!Number.isSafeInteger(wait) || (wait as number) < 0)
    throw new ConfigError(`${where}.referenceWaitMs must be a non-negative integer of milliseconds`);
  const categories: Record<string, EventCategory> = {};
  if (value.categories !== undefined) {
    if (!isObject(value.categories)) throw new ConfigError(`${where}.categories must map the provider's category ids to ours`);
    for (const [providerId, ours] of Object.entries(value.categories)) {
      if (providerId.trim() === "") throw new ConfigError(`${where}.categories has an empty provider category id`);
      categories[providerId] = oneOf(`${where}.categories.${providerId}`, ours, EVENT_CATEGORIES, "other");
    }
  }
  return {
    groupId: text(`${where}.groupId`, value.groupId, `${clientId}.${partnerId}.inbound`),
    topics,
    deadLetterTopic,
    currency: oneOf(`${where}.currency`, value.currency, CURRENCIES, "RUB"),
    timezone,
    referenceWaitMs: wait as number,
    categories,
  };
}

function topicsOf(where: string, value: unknown, format: PartnerFormat): PartnerConfig["topics"] {
  if (!isObject(value) || Object.keys(value).length === 0)
    throw new ConfigError(`${where} must name at least one of ${PARTNER_TOPIC_KINDS.join(", ")}`);
  checkKeys(where, value, [...PARTNER_TOPIC_KINDS]);
  const topics: PartnerConfig["topics"] = {};
  for (const kind of PARTNER_TOPIC_KINDS) {
    const entry = value[kind];
    if (entry === undefined) continue;
    const at = `${where}.${kind}`;
    const spec = typeof entry === "string" ? { name: entry } : entry;
    if (!isObject(spec)) throw new ConfigError(`${at} must be a topic name or {"name", "format"}`);
    checkKeys(at, spec, ["name", "format"]);
    const own = oneOf(`${at}.format`, spec.format, PARTNER_FORMATS, JSON_ONLY.includes(kind) ? "json" : format);
    if (own !== "json" && JSON_ONLY.includes(kind))
      throw new ConfigError(`${at}.format must be json: ${kind} has no protobuf schema`);
    topics[kind] = { name: topicName(`${at}.name`, spec.name), format: own };
  }
  return topics;
}

/**
 * Partners from the JSON of KAFKA_PARTNERS_FILE:
 * `{"partners": [{"id", "format"?, "schemaVersion"?, "applicationId"?, "connection"?, "topics"?, "inbound"?}]}`.
 * A partner without `connection` is served on our own cluster; `topics` (what we publish) may be
 * left out when `inbound` (what we consume) is given.
 */
export function parsePartners(
  source: string,
  json: string,
  defaults: { applicationId: string; clientId: string; connection?: KafkaConnection },
  env: Env,
): PartnerConfig[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.partners) || doc.partners.length === 0)
    throw new ConfigError(`${source} must be {"partners": [...]} with at least one partner`);
  const seen = new Set<string>();
  return doc.partners.map((raw, i) => {
    let where = `${source}: partners[${i}]`;
    if (!isObject(raw)) throw new ConfigError(`${where} must be an object`);
    checkKeys(where, raw, ["id", "format", "schemaVersion", "applicationId", "connection", "topics", "inbound"]);
    const id = text(`${where}.id`, raw.id);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new ConfigError(`${where}.id must be lower-case letters, digits and dashes`);
    if (seen.has(id)) throw new ConfigError(`${where}.id "${id}" is used twice`);
    seen.add(id);
    where = `${source}: partner ${id}`;
    let connection = defaults.connection;
    if (raw.connection !== undefined) connection = connectionOf(`${where}.connection`, raw.connection, env, defaults.clientId);
    if (!connection) throw new ConfigError(`${where}.connection is required when KAFKA_BROKERS is not set`);
    const format = oneOf(`${where}.format`, raw.format, PARTNER_FORMATS, "json");
    // A partner we only consume from publishes nothing of ours.
    const topics = raw.topics === undefined && raw.inbound !== undefined ? {} : topicsOf(`${where}.topics`, raw.topics, format);
    const outbound = Object.values(topics).map((t) => t.name);
    return {
      id,
      applicationId: text(`${where}.applicationId`, raw.applicationId, defaults.applicationId),
      schemaVersion: text(`${where}.schemaVersion`, raw.schemaVersion, "1.0"),
      connection,
      topics,
      ...(raw.inbound === undefined
        ? {}
        : { inbound: inboundOf(`${where}.inbound`, raw.inbound, id, connection.clientId, outbound) }),
    };
  });
}
