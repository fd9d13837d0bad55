/**
 * Connection settings of the real test servers started by `npm run infra:up`
 * (scripts/infra/up.sh), read from `.infra/env`. A variable already set in the process
 * environment wins over the file, so CI or a developer can point the tests elsewhere.
 */
import fs from "node:fs";
import path from "node:path";

export type InfraServer = "nats" | "kafka" | "mongo" | "ferret" | "mailpit";

export interface KafkaSaslSettings {
  brokers: string[];
  /** As kafkajs spells it: "scram-sha-512", "scram-sha-256" or "plain". */
  mechanism: "scram-sha-512" | "scram-sha-256" | "plain";
  username: string;
  password: string;
}

export interface Infra {
  natsUrl: string;
  /** mongo-java-server: lenient, and the one for tests that need atomic conditional updates. */
  mongoUri: string;
  /** FerretDB over PostgreSQL: refuses what mongod refuses (see the README's test servers). */
  ferretUri: string;
  kafkaBrokers: string[];
  kafkaSasl: KafkaSaslSettings;
  /** File holding the Kafka classpath (`java -cp "$(cat file)" org.apache.kafka.tools...`). */
  kafkaClasspathFile: string;
  /** log4j2 config for Kafka's command-line tools: warnings only, on stderr. */
  kafkaLog4jConfig: string;
  /** The shared Mailpit's SMTP side (`smtp://127.0.0.1:1025`): any login is accepted. */
  mailpitSmtpUrl: string;
  /** Its HTTP API (`http://127.0.0.1:8025`), read through test/support/mailpit.ts. */
  mailpitApiUrl: string;
  /** The Mailpit binary, for a test that needs a server of its own (see startMailpit). */
  mailpitBin: string;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const INFRA_ENV_FILE = process.env.INFRA_ENV_FILE ?? path.join(REPO_ROOT, ".infra", "env");

const VARS: Record<InfraServer, string[]> = {
  nats: ["NATS_URL"],
  mongo: ["MONGO_URI"],
  ferret: ["FERRET_URI"],
  mailpit: ["MAILPIT_SMTP_URL", "MAILPIT_API_URL", "MAILPIT_BIN"],
  kafka: [
    "KAFKA_BROKERS",
    "KAFKA_SASL_BROKERS",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_HOME_CP",
  ],
};

/** Parses the KEY=value lines up.sh writes (also accepts quoted values and comments). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2].trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1);
    }
    out[m[1]] = value;
  }
  return out;
}

function readEnvFile(): Record<string, string> {
  try {
    return parseEnvFile(fs.readFileSync(INFRA_ENV_FILE, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
}

const splitList = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Returns the test servers' settings. Throws, telling the developer to run
 * `npm run infra:up`, when a variable of a needed server is missing. `need` narrows the
 * check (e.g. a suite started with `INFRA_ONLY=nats,mongo` passes `["nats", "mongo"]`);
 * the settings of servers not needed are then empty strings / empty lists.
 */
export function loadInfra(need: readonly InfraServer[] = ["nats", "kafka", "mongo", "ferret", "mailpit"]): Infra {
  const file = readEnvFile();
  const get = (key: string): string => process.env[key] || file[key] || "";

  const missing = need.flatMap((s) => VARS[s]).filter((k) => !get(k));
  if (missing.length > 0) {
    throw new Error(
      `Test infrastructure settings missing (${missing.join(", ")}): ` +
        `${fs.existsSync(INFRA_ENV_FILE) ? `not in ${INFRA_ENV_FILE}` : `${INFRA_ENV_FILE} does not exist`}. ` +
        `Start the servers with \`npm run infra:up\` (stop them with \`npm run infra:down\`).`,
    );
  }

  const mechanism = (get("KAFKA_SASL_MECHANISM") || "scram-sha-512").toLowerCase();
  if (mechanism !== "scram-sha-512" && mechanism !== "scram-sha-256" && mechanism !== "plain") {
    throw new Error(`KAFKA_SASL_MECHANISM=${mechanism} is not one of scram-sha-512, scram-sha-256, plain`);
  }

  return {
    natsUrl: get("NATS_URL"),
    mongoUri: get("MONGO_URI"),
    ferretUri: get("FERRET_URI"),
    kafkaBrokers: splitList(get("KAFKA_BROKERS")),
    kafkaSasl: {
      brokers: splitList(get("KAFKA_SASL_BROKERS")),
      mechanism,
      username: get("KAFKA_SASL_USERNAME"),
      password: get("KAFKA_SASL_PASSWORD"),
    },
    kafkaClasspathFile: get("KAFKA_HOME_CP"),
    kafkaLog4jConfig: get("KAFKA_LOG4J2_CONFIG"),
    mailpitSmtpUrl: get("MAILPIT_SMTP_URL"),
    mailpitApiUrl: get("MAILPIT_API_URL"),
    mailpitBin: get("MAILPIT_BIN"),
  };
}

/** The two MongoDB-protocol test servers (see Infra.mongoUri and Infra.ferretUri). */
export type MongoServer = "mongo" | "ferret";

/** The URI of one MongoDB-protocol test server, for a database of the caller's own. */
export function mongoServerUri(server: MongoServer, dbName: string): string {
  const infra = loadInfra([server]);
  return mongoUriFor(dbName, server === "mongo" ? infra.mongoUri : infra.ferretUri);
}

/**
 * The test MongoDB URI with its database name replaced, so that each suite works in a
 * database of its own (suites run in parallel workers against one server).
 */
export function mongoUriFor(dbName: string, baseUri: string = loadInfra(["mongo"]).mongoUri): string {
  // MongoDB's rules: no "/\. "$*<>:|?" and at most 63 bytes.
  if (!/^[^/\\. "$*<>:|?]{1,63}$/.test(dbName)) {
    throw new Error(`"${dbName}" is not a valid MongoDB database name`);
  }
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(baseUri);
  if (!m) throw new Error(`MONGO_URI "${baseUri}" is not a mongodb:// URI`);
  return `${m[1]}/${dbName}${m[2] ?? ""}`;
}
