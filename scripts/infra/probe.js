#!/usr/bin/env node
// Readiness probe used by up.sh: does the server answer a real client request, with the
// same client libraries the services use? (An open port is not enough: Kafka opens its
// listeners before the broker is unfenced, and a half-started JVM may hold a port.)
//
//   node probe.js nats  <nats-url>
//   node probe.js kafka <brokers> [<sasl-brokers> <mechanism> <username> <password>]
//   node probe.js mongo <mongodb-uri>
//   node probe.js mailpit <smtp-url> <http-api-url>
//
// Exits 0 when the server answered, 1 with a one-line reason on stderr otherwise.
"use strict";

const [kind, ...args] = process.argv.slice(2);
const TIMEOUT_MS = 8000;

async function probeNats(url) {
  const { connect } = require("nats");
  const nc = await connect({ servers: url, timeout: 2000, reconnect: false });
  try {
    // Proves JetStream is enabled, not just the core protocol.
    const jsm = await nc.jetstreamManager({ timeout: 2000 });
    await jsm.getAccountInfo();
  } finally {
    await nc.close();
  }
}

async function probeKafka(brokers, saslBrokers, mechanism, username, password) {
  const { Kafka, logLevel } = require("kafkajs");
  const common = {
    clientId: "infra-probe",
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  };
  const kafka = new Kafka({ ...common, brokers: brokers.split(",") });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers: live } = await admin.describeCluster();
    // Metadata answers before the broker has registered and been unfenced.
    if (live.length === 0) throw new Error("no broker registered yet");
    // The first FindCoordinator creates __consumer_offsets; until it is loaded, consumer
    // groups fail with "coordinator not available / loading" (kafkajs retries, but logs
    // errors). Make tests start on a broker where that is already done.
    const { groups } = await admin.describeGroups(["infra-probe"]);
    if (groups.length !== 1 || groups[0].errorCode) throw new Error("group coordinator not ready");
  } finally {
    await admin.disconnect();
  }
  // Same for the transaction coordinator (__transaction_state), which on 4.x also answers
  // the InitProducerId of every idempotent producer: a fresh broker says "loading".
  const producer = kafka.producer({
    idempotent: true, // kafkajs insists on retries for those
    maxInFlightRequests: 1,
    transactionalId: "infra-probe",
    retry: { retries: 2, initialRetryTime: 200 },
  });
  await producer.connect();
  await producer.disconnect();
  if (saslBrokers) {
    // Also proves the SCRAM user exists with the password we are about to hand out.
    const sasl = new Kafka({
      ...common,
      brokers: saslBrokers.split(","),
      sasl: { mechanism, username, password },
    }).admin();
    await sasl.connect();
    try {
      await sasl.describeCluster();
    } finally {
      await sasl.disconnect();
    }
  }
}

async function probeMongo(uri) {
  const mongoose = require("mongoose");
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    autoIndex: false,
  });
  try {
    await conn.asPromise();
    await conn.db.admin().command({ ping: 1 });
    // FerretDB answers ping without its PostgreSQL: a read of the catalogue needs the backend.
    await conn.db.listCollections().toArray();
  } finally {
    await conn.close(true).catch(() => {});
  }
}

// Mailpit: its HTTP side says it is ready (database open) and its SMTP side greets with 220.
async function probeMailpit(smtpUrl, apiUrl) {
  const res = await fetch(new URL("readyz", apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`), {
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`readyz answered ${res.status}`);
  const { hostname, port } = new URL(smtpUrl);
  const greeting = await new Promise((resolve, reject) => {
    const socket = require("node:net").connect({ host: hostname, port: Number(port) });
    socket.setTimeout(3000, () => socket.destroy(new Error("no SMTP greeting")));
    socket.once("error", reject);
    socket.once("data", (chunk) => {
      resolve(chunk.toString("latin1"));
      socket.end("QUIT\r\n");
    });
  });
  if (!greeting.startsWith("220")) throw new Error(`SMTP greeting ${JSON.stringify(greeting.slice(0, 60))}`);
}

const probes = { nats: probeNats, kafka: probeKafka, mongo: probeMongo, mailpit: probeMailpit };

async function main() {
  const probe = probes[kind];
  if (!probe || args.length === 0) {
    console.error(`usage: probe.js nats|kafka|mongo|mailpit <url> ...`);
    process.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`${kind}: no answer within ${TIMEOUT_MS} ms`);
    process.exit(1);
  }, TIMEOUT_MS);
  try {
    await probe(...args);
    clearTimeout(timer);
    process.exit(0);
  } catch (err) {
    console.error(`${kind}: ${err && err.message ? err.message : err}`);
    process.exit(1);
  }
}

main();
