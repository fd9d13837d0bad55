import type { ServiceSchema } from "moleculer";
import type { Runtime } from "../lib/app/runtime";
import type { ServiceName } from "../lib/config/config";
import apiService from "./api/api.service";
import artistsService from "./artists/artists.service";
import eventsService from "./events/events.service";
import inventoryService from "./inventory/inventory.service";
import kafkaRelayService from "./kafka-relay/kafka-relay.service";
import notificationsService from "./notifications/notifications.service";
import { channelPorts } from "./notifications/ports";
import ordersService from "./orders/orders.service";
import organizersService from "./organizers/organizers.service";
import runnersService from "./runners/runners.service";
import ticketsService from "./tickets/tickets.service";
import usersService from "./users/users.service";
import venuesService from "./venues/venues.service";
import waitingRoomService from "./waiting-room/waiting-room.service";

// Each factory types `this` with its own mixins' methods; the broker takes any schema.
export type ServiceFactory = (rt: Runtime) => ServiceSchema<any, any>;

/** Every service this code base can run, by the name SERVICES uses. */
export const SERVICE_FACTORIES: Record<ServiceName, ServiceFactory> = {
  api: apiService,
  organizers: organizersService,
  artists: artistsService,
  venues: venuesService,
  events: eventsService,
  inventory: inventoryService,
  waitingRoom: waitingRoomService,
  orders: ordersService,
  tickets: ticketsService,
  users: usersService,
  "kafka-relay": kafkaRelayService,
  notifications: (rt) => notificationsService(rt, channelPorts(rt)),
  runners: runnersService,
};
