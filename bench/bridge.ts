/**
 * Partner-bridge benchmark: how fast the Kafka bridge publishes the sales log, beside what the
 * broker's own producer tool does on the same machine.
 *
 *   npm run bench:bridge -- [--orders 100000] [--format json|protobuf] [--steady-rate 2000] [--steady-seconds 20]
 *                           [--batch-size 500] [--writers 128] [--brokers host:port] [--perf-runs 3] [--skip-perf]
 *                           [--json out.json]
 *
 * 1. Backlog: N completed orders are written to the `sales` log of an embedded store (in a
 *    temporary directory) through the real order decider, as the orders service writes them
 *    (OrderPlaced, PaymentAttached, TicketsIssued with 1–2 tickets); then one partner's bridge
 *    (sales topics, fresh names) starts and publishes the backlog. Messages per second = Kafka
 *    messages acknowledged / time from the bridge's start until its checkpoint reaches the head.
 * 2. Steady load: orders written at a fixed rate while the bridge runs; the lag of an order is
 *    the broker's acknowledgement of its messages minus the commit time of its TicketsIssued.
 * 3. The broker's own tool (org.apache.kafka.tools.ProducerPerformance, from the same jars) sends
 *    as many records of the bridge's average message size (key + value + headers) to a fresh
 *    topic with the same partitions, acks=all, idempotent; --perf-runs times (3), the median run
 *    is reported (`runs` lists every run's records/s). ratio = bridge messages/s ÷ that median.
 *
 * Prints one JSON object (and writes it to --json). Kafka: --brokers, KAFKA_BROKERS, or the test
 * servers' settings in .infra/env (`npm run infra:up`). The bridge's runner batch size is
 * --batch-size (RUNNER_BATCH_SIZE in the application).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { PartnerConfig, PartnerFormat } from "../lib/config/partners";
import { createKafka, ensureTopics } from "../lib/kafka/kafka";
import type { OutboundMessage } from "../lib/kafka/relay";
import { EmbeddedStore } from "../lib/store/embedded/embedded-store";
import { SALES_LOG } from "../services/inventory/inventory.types";
import { encodeFor, PartnerBridge } from "../services/kafka-relay/partner-bridge";
import { salesMessages } from "../services/kafka-relay/partner-messages";
import { writeCompletedOrder } from "../test/support/sales-writer";

const PARTITIONS = 3;
const quiet = {
  info: () => undefined,
  warn: (...a: unknown[]) => console.error(...a),
  error: (...a: unknown[]) => console.error(...a),
};

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** Bytes of one record as the broker stores its payload: key, value, header names and values. */
function recordBytes(m: OutboundMessage): number {
  let n = Buffer.byteLength(m.key) + (typeof m.value === "string" ? Buffer.byteLength(m.value) : m.value.length);
  for (const [k, v] of Object.entries(m.headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Every line of the tool's output; the last summary line is the one with the percentiles. */
function producerPerformance(
  classpathFile: string,
  log4j: string,
  brokers: string[],
  topic: string,
  records: number,
  size: number,
): Promise<Record<string, number>> {
  const args = [
    "-Xmx512m",
    ...(log4j ? [`-Dlog4j2.configurationFile=${log4j}`] : []),
    "-cp",
    readFileSync(classpathFile, "utf8").trim(),
    "org.apache.kafka.tools.ProducerPerformance",
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    String(size),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${brokers.join(",")}`,
    "acks=all",
    "enable.idempotence=true",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      // "250000 records sent, 91810.5 records/sec (40.12 MB/sec), 311.42 ms avg latency, 756.00 ms max latency,
      //  290 ms 50th, 640 ms 95th, 700 ms 99th, 745 ms 99.9th."
      const line = out
        .trim()
        .split("\n")
        .reverse()
        .find((l) => /records sent.*50th/.test(l));
      const m =
        line &&
        /([\d.]+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, ([\d.]+) ms 50th, ([\d.]+) ms 95th, ([\d.]+) ms 99th/.exec(
          line,
        );
      if (code !== 0 || !m) return reject(new Error(`ProducerPerformance failed (exit ${code}):\n${out}\n${err}`));
      resolve({
        records: Number(m[1]),
        recordsPerSec: round(Number(m[2])),
        mbPerSec: Number(m[3]),
        avgLatencyMs: Number(m[4]),
        maxLatencyMs: Number(m[5]),
        p50LatencyMs: Number(m[6]),
        p99LatencyMs: Number(m[8]),
      });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: "string", default: "100000" },
      format: { type: "string", default: "json" },
      "steady-rate": { type: "string", default: "2000" },
      "steady-seconds": { type: "string", default: "20" },
      "batch-size": { type: "string", default: process.env.RUNNER_BATCH_SIZE ?? "500" },
      writers: { type: "string", default: "128" },
      brokers: { type: "string" },
      json: { type: "string" },
      "skip-perf": { type: "boolean", default: false },
      "perf-runs": { type: "string", default: "3" },
    },
  });
  const orders = Number(values.orders);
  const format = values.format as PartnerFormat;
  const rate = Number(values["steady-rate"]);
  const seconds = Number(values["steady-seconds"]);
  const batchSize = Number(values["batch-size"]);
  const writers = Number(values.writers);
  const perfRuns = Number(values["perf-runs"]);
  if (!Number.isInteger(orders) || orders < 1) throw new Error("--orders must be a positive integer");
  if (format !== "json" && format !== "protobuf") throw new Error("--format must be json or protobuf");
  if (!(rate >= 0) || !(seconds >= 0)) throw new Error("--steady-rate and --steady-seconds must be numbers >= 0");
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error("--batch-size must be a positive integer");
  if (!Number.isInteger(perfRuns) || perfRuns < 1) throw new Error("--perf-runs must be a positive integer");

  const infra = values.brokers || process.env.KAFKA_BROKERS ? null : (await import("../test/support/infra")).loadInfra(["kafka"]);
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? infra!.kafkaBrokers.join(",")).split(",").map((b) => b.trim());
  const kafka = createKafka({ brokers, clientId: "bench-bridge", ssl: false });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(
      `no Kafka broker answers at ${brokers.join(",")} (${err instanceof Error ? err.message : err}); ` +
        "start the test servers with `npm run infra:up`, or pass --brokers / KAFKA_BROKERS",
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const run = randomUUID().slice(0, 8);
  const topics = { orders: `bench.orders.${run}`, tickets: `bench.tickets.${run}`, refunds: `bench.refunds.${run}` };
  await ensureTopics(kafka, Object.values(topics), PARTITIONS);
  const partner: PartnerConfig = {
    id: "bench",
    applicationId: "ticketland",
    schemaVersion: "1.0",
    connection: { brokers, clientId: "bench-bridge", ssl: false },
    topics: {
      orders: { name: topics.orders, format },
      tickets: { name: topics.tickets, format },
      refunds: { name: topics.refunds, format },
    },
  };

  const dataDir = mkdtempSync(join(tmpdir(), "bench-bridge-"));
  const store = await EmbeddedStore.open({ dataDir, logs: [SALES_LOG, "catalogue"] });
  const log = store.log(SALES_LOG);
  const result: Record<string, unknown> = { orders, messages: 0, avgMessageBytes: 0, format, batchSize };
  let bridge: PartnerBridge | null = null;
  try {
    // 1. The backlog, written through the decider by concurrent writers.
    const writeStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(writers, orders) }, async () => {
        while (next < orders) await writeCompletedOrder(log, next++);
      }),
    );
    const head = await log.head();
    const writeMs = performance.now() - writeStart;
    console.error(`backlog: ${orders} orders, ${head} commits written in ${Math.round(writeMs)} ms`);

    let phase: "backlog" | "steady" = "backlog";
    const counts = { backlog: 0, steady: 0 };
    const lags: number[] = [];
    bridge = new PartnerBridge({
      partner,
      store,
      logs: { sales: log, catalogue: store.log("catalogue") },
      owner: `bench-${process.pid}`,
      logger: quiet,
      tuning: { batchSize, pollMs: 1000 },
      onDelivered: (_source, commits, messages) => {
        const now = Date.now();
        counts[phase] += messages.length;
        if (phase === "steady")
          for (const commit of commits) if (commit.events.some((e) => e.type === "TicketsIssued")) lags.push(now - commit.at);
      },
    });
    const relay = bridge.relays.get("sales")!;
    const start = performance.now();
    const cpu = process.cpuUsage();
    await bridge.start();
    if (!(await relay.waitFor(head, 30 * 60_000))) throw new Error("the bridge did not reach the head");
    const elapsedMs = performance.now() - start;
    const { user, system } = process.cpuUsage(cpu);
    const messages = counts.backlog;
    // The bytes, outside the measured time: the same mapping again (it is deterministic).
    const mapper = salesMessages(log);
    let bytes = 0;
    let mapped = 0;
    for (let pos = 0; pos < head; pos += 1000) {
      for (const m of await mapper(await log.readFrom(pos, 1000))) {
        const message = encodeFor(partner, m);
        if (!message) continue;
        bytes += recordBytes(message);
        mapped++;
      }
    }
    if (mapped !== messages) throw new Error(`the bridge sent ${messages} messages, the log maps to ${mapped}`);
    const avgMessageBytes = Math.round(bytes / messages);
    Object.assign(result, { messages, avgMessageBytes });
    result.backlog = {
      commits: head,
      elapsedMs: Math.round(elapsedMs),
      messagesPerSec: Math.round((messages / elapsedMs) * 1000),
      ordersPerSec: Math.round((orders / elapsedMs) * 1000),
      mbPerSec: round((bytes / 1048576 / elapsedMs) * 1000, 2),
      /** CPU time of this process (the bridge) per 1,000 messages: what the machine's load does not change much. */
      cpuMsPer1000: round((user + system) / messages, 1),
      writeOrdersPerSec: Math.round((orders / writeMs) * 1000),
    };
    console.error(`backlog published: ${JSON.stringify(result.backlog)}`);

    // 2. Steady load: orders at a fixed rate, the bridge woken on every append as the application does.
    if (rate > 0 && seconds > 0) {
      phase = "steady";
      const total = Math.round(rate * seconds);
      const steadyStart = performance.now();
      let started = 0;
      const inFlight = new Set<Promise<void>>();
      while (started < total) {
        const due = Math.min(total, Math.floor(((performance.now() - steadyStart) / 1000) * rate));
        for (; started < due; started++) {
          const p: Promise<void> = writeCompletedOrder(log, orders + started).then(() => {
            inFlight.delete(p);
            bridge!.wake("sales");
          });
          inFlight.add(p);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(inFlight);
      const writtenMs = performance.now() - steadyStart;
      const steadyHead = await log.head();
      if (!(await relay.waitFor(steadyHead, 120_000))) throw new Error("the bridge did not catch up after the steady load");
      lags.sort((a, b) => a - b);
      result.steady = {
        rate,
        seconds,
        orders: lags.length,
        achievedRate: Math.round((total / writtenMs) * 1000),
        messages: counts.steady,
        p50LagMs: percentile(lags, 50),
        p99LagMs: percentile(lags, 99),
        maxLagMs: lags[lags.length - 1],
      };
      console.error(`steady: ${JSON.stringify(result.steady)}`);
    }
    await bridge.stop();
    bridge = null;

    // 3. The broker's own producer, same record count and size, same partitions.
    if (!values["skip-perf"]) {
      const classpathFile = infra?.kafkaClasspathFile || process.env.KAFKA_HOME_CP;
      if (!classpathFile)
        throw new Error("KAFKA_HOME_CP (the Kafka classpath file, .infra/env) is needed for ProducerPerformance");
      const log4j = infra?.kafkaLog4jConfig || process.env.KAFKA_LOG4J2_CONFIG || "";
      // Several runs, the median reported: one run's figure swings with what else the machine does.
      const runs: Array<Record<string, number>> = [];
      for (let i = 0; i < perfRuns; i++) {
        const perfTopic = `bench.perf.${run}.${i}`;
        await ensureTopics(kafka, [perfTopic], PARTITIONS);
        runs.push(await producerPerformance(classpathFile, log4j, brokers, perfTopic, messages, avgMessageBytes));
      }
      runs.sort((a, b) => a.recordsPerSec - b.recordsPerSec);
      const perf = runs[Math.floor((runs.length - 1) / 2)];
      result.producerPerf = { ...perf, recordSize: avgMessageBytes, runs: runs.map((r) => r.recordsPerSec) };
      result.ratio = round((result.backlog as { messagesPerSec: number }).messagesPerSec / perf.recordsPerSec, 2);
    }
  } finally {
    await bridge?.stop().catch(() => undefined);
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (values.json) writeFileSync(values.json, text + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
