import type { Projection } from "../../lib/eventlog/projection";
import { artistsProjection } from "../artists/artists.projection";
import { organizersProjection } from "../organizers/organizers.projection";
import { venuesProjection } from "../venues/venues.projection";
import { eventsProjection } from "./events.projection";

/** Every read model of the catalogue log, for the projection runners to host. */
export const catalogueProjections: Projection[] = [organizersProjection, artistsProjection, venuesProjection, eventsProjection];
