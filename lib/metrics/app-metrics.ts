import type { MetricRegistry } from "moleculer";
import { PortError } from "../ports/http";

/**
 * Our own figures, beside Moleculer's (exported by the same Prometheus reporter, see
 * lib/metrics/scrape-reporter.ts). Every label takes values from a small, fixed set: route
 * patterns, statuses, outcomes, runner and partner names from the configuration. Never an id,
 * a raw path or anything a user typed, so the number of series stays bounded.
 */
export const METRICS = {
  httpRequests: "ticketing.http.requests.total",
  httpDuration: "ticketing.http.request.duration.seconds",
  orders: "ticketing.orders.total",
  ticketsSold: "ticketing.tickets.sold.total",
  holds: "ticketing.holds.placed.total",
  busy: "ticketing.busy.answers.total",
  providerCalls: "ticketing.provider.calls.total",
  runnerPosition: "ticketing.runner.position",
  runnerHead: "ticketing.runner.head",
  runnerLag: "ticketing.runner.lag",
  parkedKeys: "ticketing.parked.keys",
  kafkaSent: "ticketing.kafka.records.sent.total",
  kafkaSendErrors: "ticketing.kafka.send.errors.total",
  kafkaSendRetries: "ticketing.kafka.send.retries.total",
  kafkaConsumerLag: "ticketing.kafka.consumer.lag",
  notifications: "ticketing.notifications.total",
  eventLoopDelayMax: "ticketing.eventloop.delay.max.seconds",
  eventLoopDelayP99: "ticketing.eventloop.delay.p99.seconds",
} as const;

/** The name Prometheus sees (the reporter turns dots into underscores). */
export function promName(name: string): string {
  return name.replace(/[.-]/g, "_");
}

export type OrderOutcome = "placed" | "paid" | "expired" | "cancelled";

/** Seconds: from a cached read (a few ms) to a request that waited out a busy inventory. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The one door to our metrics. With metrics off (no METRICS_PORT) Moleculer's registry is
 * disabled and every call here does nothing, so the code that counts never asks whether it may.
 */
export class AppMetrics {
  constructor(private readonly registry: MetricRegistry) {
    const counter = (name: string, description: string, labelNames: string[]) =>
      registry.register({ type: "counter", name, description, labelNames, rate: false });
    const gauge = (name: string, description: string, labelNames: string[]) =>
      registry.register({ type: "gauge", name, description, labelNames, rate: false });
    counter(METRICS.httpRequests, "HTTP requests answered, by route pattern and status", ["method", "route", "status"]);
    registry.register({
      type: "histogram",
      name: METRICS.httpDuration,
      description: "Time to answer an HTTP request, by route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      quantiles: false,
    });
    counter(METRICS.orders, "Orders by what became of them (from the sales log)", ["outcome"]);
    counter(METRICS.ticketsSold, "Tickets issued to buyers, by the event's category (from the sales log)", ["category"]);
    counter(METRICS.holds, "Holds the inventory placed (from the sales log)", []);
    counter(METRICS.busy, "Requests refused with BUSY (the inventory's queue was full)", []);
    counter(METRICS.providerCalls, "Calls to a payment provider, by operation and outcome (ok or the error's code)", [
      "provider",
      "operation",
      "outcome",
    ]);
    gauge(METRICS.runnerPosition, "Last log position a runner of this node applied", ["runner"]);
    gauge(METRICS.runnerHead, "Head of the log a runner follows", ["runner"]);
    gauge(METRICS.runnerLag, "Commits a runner of this node is behind its log's head", ["runner"]);
    gauge(METRICS.parkedKeys, "Keys a partitioned subscription has set aside after failures", ["subscription"]);
    const kafkaLabels = ["partner", "application_id", "topic"];
    counter(METRICS.kafkaSent, "Records the Kafka bridge delivered to a partner's topic", kafkaLabels);
    counter(METRICS.kafkaSendErrors, "Sends to a partner's topic that failed (the batch is tried again)", kafkaLabels);
    counter(METRICS.kafkaSendRetries, "Sends to a partner's topic repeated after a failure", kafkaLabels);
    counter(METRICS.notifications, "Notification attempts by kind, channel and outcome (sent, retrying, failed, gone, skipped)", [
      "kind",
      "channel",
      "outcome",
    ]);
    gauge(METRICS.eventLoopDelayMax, "Longest wait of a ready callback for the event loop since the previous scrape", []);
    gauge(METRICS.eventLoopDelayP99, "99th percentile of the event loop's delay since the previous scrape", []);
    gauge(METRICS.kafkaConsumerLag, "Records of a partner's topic not yet consumed, summed over partitions", [
      "partner",
      "topic",
    ]);
  }

  get enabled(): boolean {
    return this.registry.isEnabled();
  }

  /** `route` is the pattern the gateway matched (e.g. `POST /api/orders/:id`), never the URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.registry.increment(METRICS.httpRequests, labels);
    this.registry.observe(METRICS.httpDuration, seconds, labels);
  }

  order(outcome: OrderOutcome): void {
    this.registry.increment(METRICS.orders, { outcome });
  }

  ticketsSold(category: string, count: number): void {
    this.registry.increment(METRICS.ticketsSold, { category }, count);
  }

  holdPlaced(): void {
    this.registry.increment(METRICS.holds, {});
  }

  busy(): void {
    this.registry.increment(METRICS.busy, {});
  }

  providerCall(provider: string, operation: string, err: unknown): void {
    const outcome = err === undefined ? "ok" : err instanceof PortError ? err.code.toLowerCase() : "error";
    this.registry.increment(METRICS.providerCalls, { provider, operation, outcome });
  }

  runner(name: string, pos: number, head: number, lag: number): void {
    this.registry.set(METRICS.runnerPosition, pos, { runner: name });
    this.registry.set(METRICS.runnerHead, head, { runner: name });
    this.registry.set(METRICS.runnerLag, lag, { runner: name });
  }

  parked(subscription: string, count: number): void {
    this.registry.set(METRICS.parkedKeys, count, { subscription });
  }

  kafkaSent(partner: string, applicationId: string, topic: string, count: number): void {
    this.registry.increment(METRICS.kafkaSent, { partner, application_id: applicationId, topic }, count);
  }

  kafkaSendError(partner: string, applicationId: string, topic: string): void {
    this.registry.increment(METRICS.kafkaSendErrors, { partner, application_id: applicationId, topic });
  }

  kafkaSendRetry(partner: string, applicationId: string, topic: string): void {
    this.registry.increment(METRICS.kafkaSendRetries, { partner, application_id: applicationId, topic });
  }

  kafkaConsumerLag(partner: string, topic: string, lag: number): void {
    this.registry.set(METRICS.kafkaConsumerLag, lag, { partner, topic });
  }

  eventLoopDelay(maxSeconds: number, p99Seconds: number): void {
    this.registry.set(METRICS.eventLoopDelayMax, maxSeconds, {});
    this.registry.set(METRICS.eventLoopDelayP99, p99Seconds, {});
  }

  /** Labels from fixed sets only: the kind, the channel and what became of the attempt. */
  notification(kind: string, channel: string, outcome: string): void {
    this.registry.increment(METRICS.notifications, { kind, channel, outcome });
  }
}
