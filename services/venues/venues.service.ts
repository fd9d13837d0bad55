import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { actorOf, created, idParam, newId, optionalId, CATALOGUE_WRITE_ERRORS } from "../../lib/app/actions";
import type { AppContext } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import type { RecordedEvent } from "../../lib/eventlog/types";
import { PortError } from "../../lib/ports/http";
import type { Doc } from "../../lib/store/types";
import { EventSourced, systemContext, type EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import { executeAndRead, ReadModel, type ReadModelMethods } from "../../mixins/read-model.mixin";
import { byStream, Subscription } from "../../mixins/subscription.mixin";
import { addressToGeocode, venueDecider } from "./venues.decider";
import { venuesProjection } from "./venues.projection";
import { venueStream, type CreateVenue, type UpdateVenue, type VenueEvent } from "./venues.types";

type Self = Service & EventSourcedMethods & ReadModelMethods;

interface GeocodeCacheDoc extends Doc {
  lat: number;
  lon: number;
  formatted: string;
  at: number;
}

/** Geocoder answers are kept: the free tier allows about a thousand requests a day. */
const GEOCODE_CACHE = "geocode_cache";

const layout = {
  type: "object",
  strict: true,
  props: {
    sections: {
      type: "array",
      min: 1,
      max: 200,
      items: {
        type: "object",
        strict: true,
        props: {
          id: { type: "string", max: 32 },
          name: { type: "string", max: 100 },
          rows: {
            type: "array",
            min: 1,
            max: 500,
            items: {
              type: "object",
              strict: true,
              props: {
                id: { type: "string", max: 32 },
                seats: { type: "array", min: 1, max: 1000, items: { type: "string", max: 32 } },
              },
            },
          },
        },
      },
    },
  },
};

const venueFields = {
  name: { type: "string", max: 200 },
  address: { type: "string", max: 500 },
  city: { type: "string", max: 100 },
  timezone: { type: "string", max: 64 },
  capacity: { type: "number", integer: true, positive: true, max: 1_000_000, optional: true },
};

type CreateParams = Omit<CreateVenue, "type" | "actor" | "at" | "id"> & { id?: string };
type UpdateParams = Omit<UpdateVenue, "type" | "actor" | "at">;

/** Venues: where events happen, with their seating plans; addresses are geocoded in the background. */
export default function venuesService(rt: Runtime): ServiceSchema<ServiceSettingSchema, EventSourcedMethods & ReadModelMethods> {
  return {
    name: "venues",
    mixins: [
      EventSourced(rt, CATALOGUE_LOG),
      ReadModel(rt, {
        projection: venuesProjection,
        fields: [
          "_id",
          "id",
          "name",
          "address",
          "city",
          "timezone",
          "capacity",
          "seated",
          "sections",
          "ownerOrganizerId",
          "location",
          "formattedAddress",
          "geocoding",
          "createdAt",
          "updatedAt",
        ],
        sortable: ["name", "city", "capacity", "createdAt"],
      }),
      Subscription<Self>(rt, {
        name: "catalogue.venues.geocoding",
        log: CATALOGUE_LOG,
        types: ["VenueCreated", "VenueAddressChanged"],
        partitionBy: byStream,
        // The geocoder is rate-limited: a few venues at a time.
        concurrency: 4,
        async handle(event) {
          await geocodeVenue(rt, this, event);
        },
      }),
    ],
    actions: {
      create: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS },
        successStatus: 201,
        params: { id: optionalId, ...venueFields, layout: { ...layout, optional: true }, $$strict: true },
        async handler(this: Self, ctx: AppContext<CreateParams>) {
          const id = ctx.params.id ?? newId(ctx, "venue");
          const command: CreateVenue = { type: "CreateVenue", ...ctx.params, id, actor: actorOf(ctx), at: Date.now() };
          return created(
            ctx,
            `/api/venues/${id}`,
            await executeAndRead(this, ctx, { decider: venueDecider, stream: venueStream(id), command, name: "create", id }),
          );
        },
      },
      update: {
        auth: ["organizer", "admin"],
        errors: { ...CATALOGUE_WRITE_ERRORS, EVENT_CLOSED: 409, VENUE_INCOMPATIBLE: 409, CAPACITY_EXCEEDED: 422 },
        params: {
          id: idParam,
          name: { ...venueFields.name, optional: true },
          address: { ...venueFields.address, optional: true },
          city: { ...venueFields.city, optional: true },
          timezone: { ...venueFields.timezone, optional: true },
          capacity: venueFields.capacity,
          layout: { ...layout, optional: true, nullable: true },
          $$strict: true,
        },
        async handler(this: Self, ctx: AppContext<UpdateParams>) {
          const command: UpdateVenue = { type: "UpdateVenue", ...ctx.params, actor: actorOf(ctx), at: Date.now() };
          return executeAndRead(this, ctx, {
            decider: venueDecider,
            stream: venueStream(ctx.params.id),
            command,
            name: "update",
            id: ctx.params.id,
          });
        },
      },
    },
  };
}

/**
 * Looks the address up (cache first) and records the answer on the venue. A failure is
 * recorded too, so the venue shows why it has no coordinates; a later address change retries.
 */
async function geocodeVenue(rt: Runtime, svc: Self, event: RecordedEvent): Promise<void> {
  const address = addressToGeocode(event as unknown as VenueEvent);
  const { id } = event.data as { id: string };
  const venue = await loadAggregate(rt.store.log(CATALOGUE_LOG), venueDecider, venueStream(id));
  if (!address || !venue || venue.address !== address) return; // superseded by a later change
  const query = address.toLowerCase().includes(venue.city.toLowerCase()) ? address : `${venue.city}, ${address}`;
  const cache = rt.store.collection<GeocodeCacheDoc>(GEOCODE_CACHE);
  const key = query.trim().toLowerCase();
  const ctx = systemContext(event);
  const base = { id, address, actor: ctx.meta.user!, at: Date.now() };
  let hit = await cache.get(key);
  if (!hit) {
    try {
      const found = await rt.geocoder.geocode(query);
      if (!found) {
        await svc.execute(
          ctx,
          venueDecider,
          venueStream(id),
          { type: "RecordGeocodeFailure", ...base, code: "NOT_FOUND", message: `no place found for "${query}"` },
          "geocode",
        );
        return;
      }
      hit = { _id: key, lat: found.lat, lon: found.lon, formatted: found.formatted, at: Date.now() };
      await cache.upsert(hit);
    } catch (err) {
      const code = err instanceof PortError ? String(err.code) : "GEOCODER_ERROR";
      svc.logger.warn(`venue ${id}: geocoding failed (${code})`);
      await svc.execute(
        ctx,
        venueDecider,
        venueStream(id),
        { type: "RecordGeocodeFailure", ...base, code, message: err instanceof Error ? err.message : String(err) },
        "geocode",
      );
      return;
    }
  }
  await svc.execute(
    ctx,
    venueDecider,
    venueStream(id),
    { type: "RecordGeocode", ...base, lat: hit.lat, lon: hit.lon, formatted: hit.formatted },
    "geocode",
  );
}
