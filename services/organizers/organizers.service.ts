import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { actorOf, created, idParam, newId, optionalId, CATALOGUE_WRITE_ERRORS } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { EventSourced, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { executeAndRead, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { organizerDecider } from "./organizers.decider";
import { organizersProjection } from "./organizers.projection";
import {
  LEGAL_TYPES,
  organizerStream,
  type CreateOrganizer,
  type ImportOrganizer,
  type UpdateOrganizer,
} from "./organizers.types";

type Self = Service & EventSourcedMethods & ReadModelMethods;

const legals = {
  type: "object",
  strict: true,
  props: {
    name: { type: "string", max: 300 },
    type: { type: "enum", values: [...LEGAL_TYPES] },
    inn: { type: "string", optional: true, max: 12 },
    ogrn: { type: "string", optional: true, max: 15 },
    address: { type: "string", optional: true, max: 500 },
  },
};

type CreateParams = Omit<CreateOrganizer, "type" | "actor" | "at" | "id"> & { id?: string };
type UpdateParams = Omit<UpdateOrganizer, "type" | "actor" | "at">;

/** Organizers: who sells the tickets, with the legal details receipts and partners need. */
export default function organizersService(
  rt: Runtime,
): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  return {
    name: "organizers",
    mixins: [
      EventSourced(rt, CATALOGUE_LOG),
      ReadModel(rt, {
        projection: organizersProjection,
        fields: ["_id", "id", "name", "legals", "source", "createdAt", "updatedAt"],
        sortable: ["name", "createdAt", "updatedAt"],
      }),
    ],
    actions: {
      create: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS },
        successStatus: 201,
        params: { id: optionalId, name: { type: "string", max: 200 }, legals: { ...legals, optional: true }, $$strict: true },
        async handler(this: Self, ctx: AppContext<CreateParams>) {
          const actor = actorOf(ctx);
          // An organizer's account is tied to one organizer: its token names it.
          const id = ctx.params.id ?? (actor.roles.includes("admin") ? newId(ctx, "organizer") : (actor.organizerId ?? ""));
          const command: CreateOrganizer = { type: "CreateOrganizer", ...ctx.params, id, actor, at: Date.now() };
          return created(
            ctx,
            `/api/organizers/${id}`,
            await executeAndRead(this, ctx, {
              decider: organizerDecider,
              stream: organizerStream(id),
              command,
              name: "create",
              id,
            }),
          );
        },
      },
      /** A partner's organizer, from the Kafka bridge (not routed by the gateway); the decider validates it. */
      import: {
        visibility: "public",
        params: { id: "string", source: "object", name: "string", legals: { type: "object", optional: true } },
        async handler(this: Self, ctx: AppContext<Omit<ImportOrganizer, "type" | "actor" | "at">>) {
          const command: ImportOrganizer = { ...ctx.params, type: "ImportOrganizer", actor: actorOf(ctx), at: Date.now() };
          const result = await this.execute(ctx, organizerDecider, organizerStream(ctx.params.id), command, "import");
          return { id: ctx.params.id, changed: !!result.commit && !result.duplicate, version: result.seq };
        },
      },
      update: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS },
        params: {
          id: idParam,
          name: { type: "string", max: 200, optional: true },
          legals: { ...legals, optional: true, nullable: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<UpdateParams>) {
          const command: UpdateOrganizer = { type: "UpdateOrganizer", ...ctx.params, actor: actorOf(ctx), at: Date.now() };
          return executeAndRead(this, ctx, {
            decider: organizerDecider,
            stream: organizerStream(ctx.params.id),
            command,
            name: "update",
            id: ctx.params.id,
          });
        },
      },
    },
  };
}
