import type { Service } from "moleculer";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import type { DistributiveOmit } from "../../lib/domain/objects";
import { loadAggregate, type CommandResult } from "../../lib/eventlog/decider";
import type { CommandContext, EventSourcedMethods } from "../../mixins/event-sourced.mixin";
import type { ReadModelMethods } from "../../mixins/read-model.mixin";
import { SALES_LOG } from "../inventory/inventory.types";
import { orderDecider } from "./orders.decider";
import { orderStream, type Order, type OrderCommand, type OrderState } from "./orders.types";

/** The orders service as its parts (placing, payments, refunds, imports, expiry) see it. */
export type OrdersService = Service & EventSourcedMethods & ReadModelMethods;

/** Runs one command on an order's stream as the caller (a user, or the system in a subscription). */
export function runOrderCommand(
  svc: OrdersService,
  ctx: CommandContext,
  id: string,
  command: DistributiveOmit<OrderCommand, "actor" | "at">,
  name: string,
): Promise<CommandResult<OrderState>> {
  const full = { ...command, actor: ctx.meta.user ?? SYSTEM, at: Date.now() } as OrderCommand;
  return svc.execute(ctx, orderDecider, orderStream(id), full, name);
}

/** The order as its stream says now (the read model may lag behind). */
export function loadOrder(rt: Runtime, id: string): Promise<OrderState> {
  return loadAggregate(rt.store.log(SALES_LOG), orderDecider, orderStream(id));
}

/** Whose tickets the inventory counts against the per-customer limit. */
export function customerKey(userId: string): string {
  return `user:${userId}`;
}

/** inventory.confirm for an order: its hold becomes sold tickets, the same lines and seats. */
export function confirmation(order: Order) {
  return {
    eventId: order.eventId,
    holdId: order.id,
    orderId: order.id,
    customerKey: customerKey(order.userId),
    lines: order.lines.map(({ categoryId, quantity, seats }) => ({ categoryId, quantity, ...(seats ? { seats } : {}) })),
  };
}

/** An order as its parties see it: without internal bookkeeping. */
export function view(order: Order): Partial<Order> {
  const { refundIds: _r, userId: _u, ...rest } = order;
  return rest;
}
