import type { Service, ServiceSchema } from "moleculer";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { fold } from "../../lib/eventlog/decider";
import type { Commit, EventLog } from "../../lib/eventlog/types";
import { createKafka } from "../../lib/kafka/kafka";
import { partnerEvent, partnerOrganizer } from "../../lib/kafka/partner-json";
import { KafkaRelay, type OutboundMessage, type RelayMapper } from "../../lib/kafka/relay";
import type { KafkaConfig } from "../../lib/config/config";
import { APPENDED_EVENT, type AppendedPayload } from "../../mixins/event-sourced.mixin";
import { eventDecider } from "../events/events.decider";
import { organizerDecider } from "../organizers/organizers.decider";

export const RELAY_NAME = "kafka.partner-relay";
export const SCHEMA_VERSION = "1.0";

/** A stream's state as of a log position: a replay of the same commit maps to the same message. */
async function stateAt<S>(
  log: EventLog,
  decider: Parameters<typeof fold<never, S>>[0] & { initialState(): S },
  stream: string,
  pos: number,
): Promise<S> {
  const commits = (await log.readStream(stream)).filter((c) => c.pos <= pos);
  return fold(decider, decider.initialState(), commits);
}

/** Organizer and event changes of the catalogue log, as the partner contract's JSON messages. */
export function catalogueMapper(log: EventLog, kafka: KafkaConfig): RelayMapper {
  const headers = (commit: Commit) => ({
    "content-type": "application/json",
    "schema-version": SCHEMA_VERSION,
    "application-id": kafka.applicationId,
    // Lets a partner drop repeats after a relay restart.
    "event-id": commit.events[commit.events.length - 1].id,
    "stream-version": String(commit.seq),
  });
  return async (commits) => {
    const out: OutboundMessage[] = [];
    for (const commit of commits) {
      const [kind, ...rest] = commit.stream.split("-");
      const id = rest.join("-");
      if (kind === "organizer") {
        const organizer = await stateAt(log, organizerDecider, commit.stream, commit.pos);
        if (organizer)
          out.push({
            topic: kafka.topics.organizers,
            key: id,
            value: JSON.stringify(partnerOrganizer(organizer)),
            headers: headers(commit),
          });
      } else if (kind === "event") {
        const event = await stateAt(log, eventDecider, commit.stream, commit.pos);
        if (!event) continue;
        const organizer = await stateAt(log, organizerDecider, `organizer-${event.organizerId}`, commit.pos);
        const message = partnerEvent(event, organizer);
        if (message) out.push({ topic: kafka.topics.events, key: id, value: JSON.stringify(message), headers: headers(commit) });
      }
    }
    return out;
  };
}

/** Publishes partner streams to Kafka; off (and saying so) when KAFKA_BROKERS is unset. */
export default function kafkaRelayService(rt: Runtime): ServiceSchema {
  let relay: KafkaRelay | null = null;
  return {
    name: "kafka-relay",
    events: {
      [APPENDED_EVENT]: {
        handler(ctx: AppContext<AppendedPayload>) {
          if (ctx.params.log === CATALOGUE_LOG) relay?.wake();
        },
      },
    },
    async started(this: Service) {
      const kafka = rt.config.kafka;
      if (!kafka) {
        this.logger.info("Kafka relay is off: KAFKA_BROKERS is not set");
        return;
      }
      const log = rt.store.log(CATALOGUE_LOG);
      relay = new KafkaRelay({
        name: RELAY_NAME,
        kafka: createKafka(kafka, this.logger),
        store: rt.store,
        log,
        topics: [kafka.topics.organizers, kafka.topics.events],
        map: catalogueMapper(log, kafka),
        owner: rt.instanceId,
        logger: this.logger,
        tuning: rt.config.runners,
      });
      const r = relay;
      rt.runners.add({
        name: RELAY_NAME,
        kind: "subscription",
        status: async () => [await r.status()],
        resume: () => r.resume(),
        wake: () => r.wake(),
      });
      await relay.start();
    },
    async stopped() {
      if (!relay) return;
      rt.runners.remove(RELAY_NAME);
      await relay.stop();
    },
  };
}
