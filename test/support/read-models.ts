import type { Projection } from "../../lib/eventlog/projection";
import { catalogueProjections } from "../../services/events/catalogue.projection";
import { stockProjection } from "../../services/inventory/inventory.projection";
import { notificationsProjection } from "../../services/notifications/notifications.projection";
import { ordersProjection } from "../../services/orders/orders.projection";
import { ticketsProjection } from "../../services/tickets/tickets.projection";
import { usersProjection } from "../../services/users/users.projection";

/**
 * Every read model the services register (each through the ReadModel mixin), importable
 * without starting a service. lib/ may not import services/, so the list lives with the tests;
 * a test that runs the product compares it with the projection runners the product reports,
 * so a read model added later and missing here fails that test instead of going unchecked.
 */
export const READ_MODELS: Projection[] = [
  ...catalogueProjections,
  stockProjection as unknown as Projection,
  ordersProjection as unknown as Projection,
  ticketsProjection as unknown as Projection,
  usersProjection as unknown as Projection,
  notificationsProjection as unknown as Projection,
];
