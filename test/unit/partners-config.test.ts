import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../lib/config/config";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n";

/** A CA certificate file, as a partner hands it over. */
function caFile(content = PEM): string {
  const file = join(mkdtempSync(join(tmpdir(), "ca-")), "ca.pem");
  writeFileSync(file, content);
  return file;
}

function withPartners(doc: unknown, env: Record<string, string> = {}) {
  const file = join(mkdtempSync(join(tmpdir(), "partners-")), "partners.json");
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
  return () => loadConfig({ KAFKA_PARTNERS_FILE: file, ...env });
}

describe("partner configuration", () => {
  test("without a partners file, one partner on our own cluster gets every topic", () => {
    const config = loadConfig({ KAFKA_BROKERS: "k1:9092", KAFKA_PARTNER_FORMAT: "protobuf", KAFKA_TOPIC_ORDERS: "sales.orders" });
    expect(config.kafka!.partners).toEqual([
      {
        id: "default",
        applicationId: "ticketland",
        schemaVersion: "1.0",
        connection: { brokers: ["k1:9092"], clientId: "ticketing", ssl: false, caFile: undefined, sasl: undefined },
        topics: {
          organizers: { name: "organizers", format: "protobuf" },
          events: { name: "events", format: "protobuf" },
          orders: { name: "sales.orders", format: "protobuf" },
          refunds: { name: "refunds", format: "protobuf" },
          tickets: { name: "tickets", format: "protobuf" },
          music: { name: "music.events", format: "json" },
        },
      },
    ]);
    expect(loadConfig({}).kafka).toBeUndefined();
  });

  test("a partner's own SASL_SSL connection takes its password from the variable it names", () => {
    const ca = caFile();
    const config = withPartners(
      {
        partners: [
          {
            id: "vibe",
            format: "protobuf",
            applicationId: "ours",
            connection: {
              brokers: ["kafka.vibe.example:9094"],
              security: "SASL_SSL",
              caFile: ca,
              sasl: { mechanism: "SCRAM-SHA-512", username: "ticketland", passwordEnv: "VIBE_PASSWORD" },
            },
            topics: { events: "vibe.events", orders: { name: "vibe.orders", format: "json" } },
          },
        ],
      },
      { VIBE_PASSWORD: "s3cret" },
    )();
    expect(config.kafka!.partners[0]).toEqual({
      id: "vibe",
      applicationId: "ours",
      schemaVersion: "1.0",
      connection: {
        brokers: ["kafka.vibe.example:9094"],
        clientId: "ticketing",
        ssl: true,
        caFile: ca,
        ca: PEM,
        sasl: { mechanism: "scram-sha-512", username: "ticketland", password: "s3cret" },
      },
      topics: { events: { name: "vibe.events", format: "protobuf" }, orders: { name: "vibe.orders", format: "json" } },
    });
  });

  const sasl = { mechanism: "plain", username: "u", passwordEnv: "P" };
  test.each([
    ["{not json", /is not valid JSON/],
    [{ partners: [] }, /at least one partner/],
    [{ partners: [{ id: "A!", topics: { events: "e" } }] }, /partners\[0\]\.id must be lower-case/],
    [{ partners: [{ id: "a", topics: { events: "e" } }] }, /partner a\.connection is required when KAFKA_BROKERS is not set/],
    [{ partners: [{ id: "a", connection: { brokers: ["k:1"] }, topics: {} }] }, /partner a\.topics must name at least one/],
    [{ partners: [{ id: "a", connection: { brokers: ["k:1"] }, topics: { gigs: "g" } }] }, /unknown field\(s\) gigs/],
    [{ partners: [{ id: "a", connection: { brokers: ["k"] }, topics: { events: "e" } }] }, /brokers must be host:port/],
    [
      { partners: [{ id: "a", connection: { brokers: ["k:1"], security: "SASL_SSL" }, topics: { events: "e" } }] },
      /sasl is required/,
    ],
    [
      { partners: [{ id: "a", connection: { brokers: ["k:1"], security: "SASL_SSL", sasl }, topics: { events: "e" } }] },
      /P is required by .*passwordEnv/,
    ],
    [
      { partners: [{ id: "a", connection: { brokers: ["k:1"], security: "SSL", sasl }, topics: { events: "e" } }] },
      /sasl is only allowed with security SASL_PLAINTEXT or SASL_SSL/,
    ],
    [
      {
        partners: [
          {
            id: "a",
            connection: { brokers: ["k:1"], security: "SASL_PLAINTEXT", sasl: { ...sasl, mechanism: "md5" } },
            topics: { events: "e" },
          },
        ],
      },
      /mechanism must be one of plain, scram-sha-256, scram-sha-512/,
    ],
    [
      { partners: [{ id: "a", connection: { brokers: ["k:1"] }, topics: { music: { name: "m", format: "protobuf" } } }] },
      /music has no protobuf schema/,
    ],
    [
      { partners: [{ id: "a", connection: { brokers: ["k:1"] }, topics: { events: "bad topic" } }] },
      /not a valid Kafka topic name/,
    ],
    [
      {
        partners: [
          { id: "a", connection: { brokers: ["k:1"] }, topics: { events: "e" } },
          { id: "a", connection: { brokers: ["k:1"] }, topics: { events: "e" } },
        ],
      },
      /"a" is used twice/,
    ],
  ])("refused with a message naming the problem: %j", (doc, message) => {
    expect(withPartners(doc)).toThrow(message);
  });

  test("a partner we only consume from: inbound streams without topics of ours, defaults filled in", () => {
    const config = withPartners({
      partners: [
        {
          id: "tc",
          connection: { brokers: ["kafka.tc.example:9092"] },
          inbound: { topics: { partners: "tc.partners", orders: "tc.orders" } },
        },
        {
          id: "both",
          connection: { brokers: ["k:1"] },
          topics: { events: "ours.events" },
          inbound: {
            groupId: "ticketing-both",
            topics: { events: "theirs.events", refundRequests: "theirs.refunds" },
            deadLetterTopic: "theirs.dlq",
            currency: "EUR",
            timezone: "Europe/Berlin",
            referenceWaitMs: 0,
            categories: { "5f0c": "theater", "5f0d": "standup" },
          },
        },
      ],
    })();
    expect(config.kafka!.partners.map((p) => [p.id, p.topics, p.inbound])).toEqual([
      [
        "tc",
        {},
        {
          groupId: "ticketing.tc.inbound",
          topics: { partners: "tc.partners", orders: "tc.orders" },
          deadLetterTopic: "tc.inbound.dead-letters",
          currency: "RUB",
          timezone: "UTC",
          referenceWaitMs: 5000,
          categories: {},
        },
      ],
      [
        "both",
        { events: { name: "ours.events", format: "json" } },
        {
          groupId: "ticketing-both",
          topics: { events: "theirs.events", refundRequests: "theirs.refunds" },
          deadLetterTopic: "theirs.dlq",
          currency: "EUR",
          timezone: "Europe/Berlin",
          referenceWaitMs: 0,
          categories: { "5f0c": "theater", "5f0d": "standup" },
        },
      ],
    ]);
  });

  const conn = { brokers: ["k:1"] };
  test.each([
    [{ id: "a", connection: conn }, /partner a\.topics must name at least one/],
    [{ id: "a", connection: conn, inbound: "x" }, /partner a\.inbound must be an object/],
    [
      { id: "a", connection: conn, inbound: { topics: {} } },
      /partner a\.inbound\.topics must name at least one of partners, events/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { tickets: "t" } } },
      /partner a\.inbound\.topics has unknown field\(s\) tickets/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, dlq: "d" } },
      /partner a\.inbound has unknown field\(s\) dlq/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "bad topic" } } },
      /inbound\.topics\.orders is not a valid Kafka topic name/,
    ],
    [
      { id: "a", connection: conn, topics: { orders: "o" }, inbound: { topics: { orders: "o" } } },
      /inbound\.topics\.orders "o" is also a topic we publish to/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o", events: "o" } } },
      /inbound\.topics\.orders "o" is named twice/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, deadLetterTopic: "o" } },
      /inbound\.deadLetterTopic "o" must be a topic of its own/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, currency: "JPY" } },
      /inbound\.currency must be one of RUB/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, timezone: "Mars/Olympus" } },
      /inbound\.timezone must be an IANA/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, referenceWaitMs: -1 } },
      /inbound\.referenceWaitMs must be/,
    ],
    [
      { id: "a", connection: conn, inbound: { topics: { orders: "o" }, categories: { "5f0c": "opera" } } },
      /inbound\.categories\.5f0c must be one of ballet/,
    ],
    [{ id: "a", connection: conn, inbound: { topics: { orders: "o" }, categories: ["x"] } }, /inbound\.categories must map/],
  ])("inbound refused with a message naming the field: %j", (partner, message) => {
    expect(withPartners({ partners: [partner] })).toThrow(message);
  });

  test("a CA file that is missing or not a certificate is a configuration error naming the partner and the field", () => {
    const partner = (file: string) => ({
      partners: [{ id: "vibe", connection: { brokers: ["k:1"], security: "SSL", caFile: file }, topics: { events: "e" } }],
    });
    const missing = join(mkdtempSync(join(tmpdir(), "ca-")), "gone.pem");
    expect(withPartners(partner(missing))).toThrow(`partner vibe.connection.caFile "${missing}" does not exist`);
    expect(withPartners(partner(missing))).toThrow(expect.objectContaining({ name: "ConfigError" }));
    expect(withPartners(partner(caFile("not a certificate")))).toThrow(
      /partner vibe\.connection\.caFile ".*" is not a PEM certificate/,
    );
    // A directory is not readable as a file either.
    expect(withPartners(partner(tmpdir()))).toThrow(/partner vibe\.connection\.caFile ".*" cannot be read \(EISDIR\)/);
    expect(() => loadConfig({ KAFKA_BROKERS: "k:1", KAFKA_SSL_CA_FILE: missing })).toThrow(
      `KAFKA_SSL_CA_FILE "${missing}" does not exist`,
    );
    expect(loadConfig({ KAFKA_BROKERS: "k:1", KAFKA_SSL_CA_FILE: caFile() }).kafka!.connection).toMatchObject({
      ssl: true,
      ca: PEM,
    });
  });

  test("an unreadable partners file is named", () => {
    expect(() => loadConfig({ KAFKA_PARTNERS_FILE: "/nonexistent/partners.json" })).toThrow(/KAFKA_PARTNERS_FILE cannot be read/);
  });
});

test("the example partners file in deploy/ is valid; the Vibe partner takes JSON, as its contract now says", () => {
  // The example names the CA where an installation keeps it; here a certificate stands in.
  const example = JSON.parse(readFileSync(`${__dirname}/../../deploy/partners.example.json`, "utf8")) as {
    partners: Array<{ connection?: { caFile?: string } }>;
  };
  expect(example.partners[0].connection!.caFile).toBe("/etc/ticketing/vibe-ca.pem");
  example.partners[0].connection!.caFile = caFile();
  const file = join(mkdtempSync(join(tmpdir(), "partners-")), "partners.json");
  writeFileSync(file, JSON.stringify(example));
  const config = loadConfig({
    KAFKA_BROKERS: "kafka:9092",
    KAFKA_PARTNERS_FILE: file,
    VIBE_KAFKA_PASSWORD: "x".repeat(20),
    PROVIDER_KAFKA_PASSWORD: "y".repeat(20),
  });
  expect(config.kafka!.partners.map((p) => [p.id, p.connection.brokers[0]])).toEqual([
    ["vibe", "kafka.vibe.example:9094"],
    ["music", "kafka:9092"],
    ["provider", "kafka.provider.example:9093"],
  ]);
  const vibe = config.kafka!.partners[0];
  expect(Object.values(vibe.topics).map((t) => t.format)).toEqual(["json", "json", "json", "json", "json"]);
  expect(config.kafka!.partners[2].inbound).toMatchObject({
    topics: { partners: "partners", events: "events", orders: "orders", refundRequests: "refund_requests" },
    deadLetterTopic: "ticketing.provider.dead-letters",
  });
});
