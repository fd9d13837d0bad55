import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { actorOf, created, idParam, newId, optionalId, CATALOGUE_WRITE_ERRORS } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { PortError } from "../../lib/ports/http";
import { EventSourced, systemContext, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { executeAndRead, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { artistDecider, musicIdToSync } from "./artists.decider";
import { artistsProjection } from "./artists.projection";
import { artistStream, type ArtistEvent, type CreateArtist, type UpdateArtist } from "./artists.types";

type Self = Service & EventSourcedMethods & ReadModelMethods;

const genres = { type: "array", max: 10, items: { type: "string", max: 50 } };
const links = {
  type: "array",
  max: 20,
  items: { type: "object", strict: true, props: { kind: { type: "string", max: 30 }, url: { type: "url" } } },
};
const musicId = {
  type: "string",
  pattern: "^\\d{1,12}$",
  messages: { stringPattern: "'{field}' must be a numeric Yandex Music artist id" },
};

type CreateParams = Omit<CreateArtist, "type" | "actor" | "at" | "id"> & { id?: string };
type UpdateParams = Omit<UpdateArtist, "type" | "actor" | "at">;

/** Artists: names, genres, links and, when linked, their discography from Yandex Music. */
export default function artistsService(rt: Runtime): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  return {
    name: "artists",
    mixins: [
      EventSourced(rt, CATALOGUE_LOG),
      ReadModel(rt, {
        projection: artistsProjection,
        fields: [
          "_id",
          "id",
          "name",
          "genres",
          "links",
          "yandexMusicId",
          "ownerOrganizerId",
          "discography",
          "sync",
          "createdAt",
          "updatedAt",
        ],
        sortable: ["name", "createdAt", "updatedAt"],
      }),
      Subscription<Self>(rt, {
        name: "catalogue.artists.discography",
        log: CATALOGUE_LOG,
        types: ["ArtistCreated", "ArtistMusicIdChanged"],
        partitionBy: byStream,
        // Yandex Music is rate-limited: a few artists at a time.
        concurrency: 4,
        async handle(event) {
          await syncDiscography(rt, this, event);
        },
      }),
    ],
    actions: {
      create: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS },
        successStatus: 201,
        params: {
          id: optionalId,
          name: { type: "string", max: 200 },
          genres: { ...genres, optional: true },
          links: { ...links, optional: true },
          yandexMusicId: { ...musicId, optional: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<CreateParams>) {
          const id = ctx.params.id ?? newId(ctx, "artist");
          const command: CreateArtist = { type: "CreateArtist", ...ctx.params, id, actor: actorOf(ctx), at: Date.now() };
          return created(
            ctx,
            `/api/artists/${id}`,
            await executeAndRead(this, ctx, { decider: artistDecider, stream: artistStream(id), command, name: "create", id }),
          );
        },
      },
      update: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS },
        params: {
          id: idParam,
          name: { type: "string", max: 200, optional: true },
          genres: { ...genres, optional: true },
          links: { ...links, optional: true },
          yandexMusicId: { ...musicId, optional: true, nullable: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<UpdateParams>) {
          const command: UpdateArtist = { type: "UpdateArtist", ...ctx.params, actor: actorOf(ctx), at: Date.now() };
          return executeAndRead(this, ctx, {
            decider: artistDecider,
            stream: artistStream(ctx.params.id),
            command,
            name: "update",
            id: ctx.params.id,
          });
        },
      },
    },
  };
}

/** Fetches the linked discography and records it (or why it could not be fetched). */
async function syncDiscography(rt: Runtime, svc: Self, event: RecordedEvent): Promise<void> {
  const yandexMusicId = musicIdToSync(event as unknown as ArtistEvent);
  const { id } = event.data as { id: string };
  const artist = await loadAggregate(rt.store.log(CATALOGUE_LOG), artistDecider, artistStream(id));
  if (!yandexMusicId || !artist || artist.yandexMusicId !== yandexMusicId) return; // unlinked or relinked since
  const ctx = systemContext(event);
  const base = { id, yandexMusicId, actor: ctx.meta.user!, at: Date.now() };
  try {
    const found = await rt.music.getArtist(yandexMusicId);
    if (!found) {
      await svc.execute(
        ctx,
        artistDecider,
        artistStream(id),
        { type: "RecordDiscographyFailure", ...base, code: "NOT_FOUND", message: `Yandex Music has no artist ${yandexMusicId}` },
        "sync",
      );
      return;
    }
    await svc.execute(
      ctx,
      artistDecider,
      artistStream(id),
      {
        type: "RecordDiscography",
        ...base,
        fetchedAt: Date.now(),
        albums: found.albums,
        popularTracks: found.popularTracks,
        coverUrl: found.coverUrl,
      },
      "sync",
    );
  } catch (err) {
    const code = err instanceof PortError ? String(err.code) : "MUSIC_ERROR";
    svc.logger.warn(`artist ${id}: discography sync failed (${code})`);
    await svc.execute(
      ctx,
      artistDecider,
      artistStream(id),
      { type: "RecordDiscographyFailure", ...base, code, message: err instanceof Error ? err.message : String(err) },
      "sync",
    );
  }
}
