import type { ServiceSchema } from "moleculer";
import { SYSTEM, type AppContext } from "../lib/app/context";
import { toMoleculerError } from "../lib/app/errors";
import type { LogName, Runtime } from "../lib/app/runtime";
import { handleCommand, type CommandResult, type Decider } from "../lib/eventlog/decider";
import type { NewEvent, RecordedEvent } from "../lib/eventlog/types";
import { announcerOf } from "../lib/app/log-announcer";

export { APPENDED_EVENT, type AppendedPayload } from "../lib/app/log-announcer";

/** What a command needs of its caller: an HTTP request's context, or a subscription's (see systemContext). */
export type CommandContext = Pick<AppContext, "meta" | "requestID">;

/**
 * The context of a command a subscription issues in reaction to `event`: it acts as the
 * system, and its command id comes from the event, so a redelivered event is answered with the
 * first result instead of being applied twice.
 */
export function systemContext(event: RecordedEvent): CommandContext {
  return { meta: { user: SYSTEM, commandId: event.id }, requestID: event.meta.correlationId ?? null };
}

export interface EventSourcedMethods {
  execute<C, E extends NewEvent, S>(
    ctx: CommandContext,
    decider: Decider<C, E, S>,
    stream: string,
    command: C,
    name: string,
  ): Promise<CommandResult<S>>;
}

/**
 * The command side of a service: load the aggregate, decide, append with the expected
 * version, then wake every consumer of the log (see LogAnnouncer).
 */
export function EventSourced(rt: Runtime, log: LogName): Partial<ServiceSchema> {
  return {
    methods: {
      async execute<C, E extends NewEvent, S>(
        this: { broker: Parameters<typeof announcerOf>[0] },
        ctx: CommandContext,
        decider: Decider<C, E, S>,
        stream: string,
        command: C,
        name: string,
      ): Promise<CommandResult<S>> {
        // One request may run several commands; each gets its own id derived from the request's.
        const commandId = ctx.meta.commandId ? `${ctx.meta.commandId}:${name}:${stream}` : undefined;
        try {
          const result = await handleCommand(rt.store.log(log), decider, stream, command, {
            commandId,
            meta: { correlationId: ctx.requestID ?? undefined, actor: ctx.meta.user?.sub ?? "anonymous" },
          });
          if (result.commit && !result.duplicate) announcerOf(this.broker, rt.runners).appended(log, result.commit.pos);
          return result;
        } catch (err) {
          throw toMoleculerError(err);
        }
      },
    },
  };
}
