import { Errors, type Service, type ServiceSchema } from "moleculer";
import { SYSTEM, type AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { PARTNER_TOPIC_KINDS, type PartnerTopicKind } from "../../lib/config/partners";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { APPENDED_EVENT, type AppendedPayload } from "../../mixins/event-sourced.mixin";
import { SALES_LOG } from "../inventory/inventory.types";
import { BridgeError, PartnerBridge, sourceOf, type SourceName } from "./partner-bridge";
import { startInbound, type InboundCall } from "./inbound-service";
import type { PartnerInbound } from "./partner-inbound";

const LOG_SOURCES: Record<string, SourceName> = { [CATALOGUE_LOG]: "catalogue", [SALES_LOG]: "sales" };

export interface ReplayParams {
  partner: string;
  topic: PartnerTopicKind;
  /** A log position, or an ISO 8601 time: everything from the first commit at or after it. */
  from: string;
}

export interface ResyncParams {
  partner: string;
  /** The stream of the entity: organizer-<id>, event-<id> or order-<id>. */
  stream: string;
}

/**
 * The partner bridge: publishes our logs to each configured partner's Kafka topics, in the
 * partner's format, with its own checkpoints. Off (and saying so) when Kafka is not configured.
 */
export default function kafkaRelayService(rt: Runtime): ServiceSchema {
  const bridges = new Map<string, PartnerBridge>();
  const inbounds = new Map<string, PartnerInbound>();

  function inboundOf(id: string): PartnerInbound {
    const inbound = inbounds.get(id);
    if (!inbound)
      throw new Errors.MoleculerClientError(
        `partner "${id}" has no inbound streams on this node; consumed: ${[...inbounds.keys()].join(", ") || "none"}`,
        404,
        "NOT_FOUND",
      );
    return inbound;
  }

  function bridgeOf(id: string): PartnerBridge {
    const bridge = bridges.get(id);
    if (!bridge)
      throw new Errors.MoleculerClientError(
        `no partner "${id}" on this node; configured: ${[...bridges.keys()].join(", ") || "none"}`,
        404,
        "NOT_FOUND",
      );
    return bridge;
  }

  return {
    name: "kafka-relay",
    events: {
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          const source = LOG_SOURCES[ctx.params.log];
          if (source) for (const bridge of bridges.values()) bridge.wake(source);
        },
      },
    },
    actions: {
      status: {
        visibility: "public",
        async handler() {
          return {
            partners: await Promise.all(
              [...bridges.values()].map(async (b) => ({
                id: b.id,
                relays: await b.status(),
                inbound: inbounds.get(b.id)?.status() ?? null,
              })),
            ),
          };
        },
      },
      replay: {
        visibility: "public",
        params: { partner: "string", topic: { type: "enum", values: [...PARTNER_TOPIC_KINDS] }, from: "string" },
        async handler(ctx: AppContext<ReplayParams>) {
          const { partner, topic, from } = ctx.params;
          return clientErrors(() => bridgeOf(partner).replay(sourceOf(topic), topic, parseFrom(from)));
        },
      },
      /** The dead letters of a partner's inbound streams (REPL `bridge dlq`). */
      deadLetters: {
        visibility: "public",
        params: { partner: "string", limit: { type: "number", integer: true, positive: true, optional: true, convert: true } },
        async handler(ctx: AppContext<{ partner: string; limit?: number }>) {
          const inbound = inboundOf(ctx.params.partner);
          return clientErrors(async () => ({
            partner: ctx.params.partner,
            deadLetters: await inbound.deadLetters(ctx.params.limit),
          }));
        },
      },
      /** Publishes dead letters again to their topics, all not re-driven yet or one (REPL `bridge redrive`). */
      redrive: {
        visibility: "public",
        params: { partner: "string", offset: { type: "string", optional: true, pattern: /^(\d+:)?\d+$/ } },
        async handler(ctx: AppContext<{ partner: string; offset?: string }>) {
          const inbound = inboundOf(ctx.params.partner);
          return clientErrors(() => inbound.redrive(ctx.params.offset));
        },
      },
      resync: {
        visibility: "public",
        params: { partner: "string", stream: { type: "string", pattern: /^(organizer|event|order)-.+$/ } },
        async handler(ctx: AppContext<ResyncParams>) {
          const source: SourceName = ctx.params.stream.startsWith("order-") ? "sales" : "catalogue";
          return clientErrors(() => bridgeOf(ctx.params.partner).resync(source, ctx.params.stream));
        },
      },
    },
    async started(this: Service) {
      const kafka = rt.config.kafka;
      if (!kafka) {
        this.logger.info("Kafka relay is off: neither KAFKA_BROKERS nor KAFKA_PARTNERS_FILE is set");
        return;
      }
      for (const partner of kafka.partners) {
        const bridge = new PartnerBridge({
          partner,
          store: rt.store,
          logs: { catalogue: rt.store.log(CATALOGUE_LOG), sales: rt.store.log(SALES_LOG) },
          owner: rt.instanceId,
          logger: this.logger,
          tuning: rt.config.runners,
          metrics: rt.metrics,
        });
        bridges.set(partner.id, bridge);
        for (const [source, relay] of bridge.relays) {
          rt.runners.add({
            name: relay.name,
            kind: "bridge",
            status: async () => [await relay.status()],
            resume: () => relay.resume(),
            wake: (log) => LOG_SOURCES[log] === source && relay.wake(),
          });
        }
        await bridge.start();
        const topics = Object.entries(partner.topics).map(([kind, t]) => `${kind}→${t.name} (${t.format})`);
        if (topics.length)
          this.logger.info(`partner ${partner.id}: publishing ${topics.join(", ")} to ${partner.connection.brokers.join(",")}`);
        const call: InboundCall = (action, params, commandId) =>
          this.broker.call<{ changed: boolean }, object>(action, params, { meta: { user: SYSTEM, commandId } });
        const inbound = startInbound(rt, partner, call, this.logger);
        if (inbound) inbounds.set(partner.id, inbound);
      }
    },
    async stopped() {
      for (const inbound of inbounds.values()) {
        rt.runners.remove(inbound.name);
        await inbound.stop();
      }
      inbounds.clear();
      for (const bridge of bridges.values()) {
        for (const relay of bridge.relays.values()) rt.runners.remove(relay.name);
        await bridge.stop();
      }
      bridges.clear();
    },
  };
}

function parseFrom(from: string): { pos: number } | { at: number } {
  if (/^\d+$/.test(from)) return { pos: Number(from) };
  const at = Date.parse(from);
  if (Number.isNaN(at))
    throw new Errors.MoleculerClientError(
      `from must be a log position or an ISO 8601 time, got "${from}"`,
      422,
      "VALIDATION_ERROR",
    );
  return { at };
}

async function clientErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BridgeError)
      throw new Errors.MoleculerClientError(err.message, err.code, err.code === 404 ? "NOT_FOUND" : "BRIDGE_REFUSED");
    throw err;
  }
}
