import type { Service } from "moleculer";
import { dateTimeParam, idParam, CATALOGUE_WRITE_ERRORS } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import type { EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import type { ReadModelMethods } from "../../mixins/read-model.mixin";
import type { EventMethods } from "./events.service";
import { MAX_ADMISSION_RATE } from "./waiting-room.rules";

type Self = Service & EventSourcedMethods & ReadModelMethods & EventMethods;

/** A whole number of admissions per second, or "auto"; the decider checks it again. */
const rateParam = {
  type: "multi",
  rules: [
    { type: "number", integer: true, min: 1, max: MAX_ADMISSION_RATE },
    { type: "enum", values: ["auto"] },
  ],
};

/**
 * PUT and DELETE /api/events/:id/waiting-room: the organizer (or an admin) turns the event's
 * queue on, changes its start or rate, or turns it off. The settings live on the event, so the
 * order path, which loads the event anyway, knows whether an admission token is needed.
 */
export function waitingRoomActions() {
  const errors = { ...CATALOGUE_WRITE_ERRORS, EVENT_CLOSED: 409 };
  return {
    configureWaitingRoom: {
      auth: ["organizer", "admin"] as const,
      errors,
      params: { id: idParam, opensAt: dateTimeParam, rate: rateParam, $$strict: true },
      async handler(this: Self, ctx: AppContext<{ id: string; opensAt: string | number; rate: number | "auto" }>) {
        const { id, opensAt, rate } = ctx.params;
        const pos = await this.command(ctx, id, { type: "ConfigureWaitingRoom", id, opensAt, rate }, "configureWaitingRoom");
        return this.readAfterWrite(ctx, id, pos as number | undefined);
      },
    },
    removeWaitingRoom: {
      auth: ["organizer", "admin"] as const,
      errors,
      params: { id: idParam, $$strict: true },
      async handler(this: Self, ctx: AppContext<{ id: string }>) {
        const pos = await this.command(ctx, ctx.params.id, { type: "RemoveWaitingRoom", id: ctx.params.id }, "removeWaitingRoom");
        return this.readAfterWrite(ctx, ctx.params.id, pos as number | undefined);
      },
    },
  };
}
