/**
 * A single-node Kafka (KRaft) of a test's own, for tests that stop the broker: the shared test
 * broker must stay up for everyone else. Same jars and the same settings as the shared one
 * (scripts/infra/up.sh, scripts/infra/kafka/server.properties.tmpl), on free ports in a
 * temporary directory. It can be killed and started again on the same ports and data.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { freePort } from "./free-port";
import { loadInfra, REPO_ROOT } from "./infra";
import { ownProcess } from "./own-process";

const INFRA_DIR = join(REPO_ROOT, "scripts", "infra");

/** 16 random bytes, URL-safe base64 without padding, never starting with '-' (as up.sh makes them). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

export interface OwnKafka {
  brokers: string[];
  dir: string;
  /** Starts the broker (again) on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Stops the broker: SIGKILL (a crash, the default) or SIGTERM (a controlled shutdown). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
  /** The broker's log so far, for failure messages. */
  logTail(lines?: number): string;
}

export async function ownKafka(options: { timeoutMs?: number } = {}): Promise<OwnKafka> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const infra = loadInfra(["kafka"]);
  const classpath = readFileSync(infra.kafkaClasspathFile, "utf8").trim();
  const dir = mkdtempSync(join(tmpdir(), "own-kafka-"));
  const [plaintext, controller, sasl] = [await freePort(), await freePort(), await freePort()];
  const properties = join(dir, "server.properties");
  const values: Record<string, string> = {
    PLAINTEXT_PORT: String(plaintext),
    CONTROLLER_PORT: String(controller),
    SASL_PORT: String(sasl),
    LOG_DIR: join(dir, "data"),
    SASL_USER: "partner",
    SASL_PASSWORD: randomBytes(12).toString("hex"),
  };
  const template = readFileSync(join(INFRA_DIR, "kafka", "server.properties.tmpl"), "utf8");
  writeFileSync(
    properties,
    template.replace(/@([A-Z_]+)@/g, (_, name: string) => values[name] ?? `@${name}@`),
  );

  // Short-lived tool JVM: C1 only and serial GC start faster on 2 cores (as up.sh does).
  const format = spawnSync(
    "java",
    [
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-Xmx256m",
      `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2-tools.xml")}`,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId(),
      "-c",
      properties,
    ],
    { encoding: "utf8", timeout: timeoutMs },
  );
  if (format.status !== 0) throw new Error(`kafka storage format failed:\n${format.stdout}\n${format.stderr}`);

  const brokers = [`127.0.0.1:${plaintext}`];
  async function answers(): Promise<boolean> {
    const admin = new Kafka({
      clientId: "own-kafka-probe",
      brokers,
      connectionTimeout: 1000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  const server = ownProcess({
    name: "the broker",
    dir,
    command: "java",
    args: [
      "-Xms128m",
      "-Xmx384m",
      "-XX:+UseSerialGC",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${join(INFRA_DIR, "kafka", "log4j2.xml")}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      properties,
    ],
    answers,
    timeoutMs,
    pollMs: 250,
  });

  await server.start();
  return { brokers, dir, ...server };
}
