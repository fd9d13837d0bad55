import { SYSTEM, type AppContext } from "../../lib/app/context";
import { toMoleculerError } from "../../lib/app/errors";
import type { Runtime } from "../../lib/app/runtime";
import { CATALOGUE_LOG } from "../../lib/domain/catalogue";
import { loadAggregate } from "../../lib/eventlog/decider";
import { eventDecider } from "../events/events.decider";
import { eventStream } from "../events/events.types";
import { barcodeDecider, barcodeStream, type ClaimBarcode } from "./barcode.decider";
import { loadOrder, type OrdersService } from "./order-commands";
import { orderDecider } from "./orders.decider";
import { orderStream, type ImportOrder, type ImportRefund } from "./orders.types";

export type ImportOrderParams = Omit<ImportOrder, "type" | "actor" | "at" | "event">;
export type ImportRefundParams = Omit<ImportRefund, "type" | "actor" | "at">;

/** What an import answers the bridge: whether anything changed, and the stream's version. */
export interface ImportResult {
  id: string;
  changed: boolean;
  version: number | undefined;
}

/**
 * A partner's order, from the Kafka bridge. Validated by the decider before its barcodes are
 * claimed, so a refused order claims none.
 */
export async function importOrder(rt: Runtime, svc: OrdersService, ctx: AppContext<ImportOrderParams>): Promise<ImportResult> {
  const { id, eventId } = ctx.params;
  const current = await loadOrder(rt, id);
  const event = await loadAggregate(rt.store.log(CATALOGUE_LOG), eventDecider, eventStream(eventId));
  const command: ImportOrder = {
    ...ctx.params,
    type: "ImportOrder",
    event: event && {
      id: event.id,
      organizerId: event.organizerId,
      source: event.source,
      ticketSets: (event.ticketSets ?? []).map((t) => ({ id: t.id, name: t.name })),
    },
    actor: ctx.meta.user ?? SYSTEM,
    at: Date.now(),
  };
  let imports: boolean;
  try {
    imports = orderDecider.decide(command, current).some((e) => e.type === "OrderImported");
  } catch (err) {
    throw toMoleculerError(err);
  }
  if (imports) {
    for (const ticket of command.tickets) {
      const claim: ClaimBarcode = { type: "ClaimBarcode", barcode: ticket.barcode, ticketId: ticket.id, orderId: id };
      await svc.execute(ctx, barcodeDecider, barcodeStream(ticket.barcode), claim, "claim");
    }
  }
  const result = await svc.execute(ctx, orderDecider, orderStream(id), command, "import");
  return { id, changed: !!result.commit && !result.duplicate, version: result.seq };
}

/** A refund the partner approved, from the Kafka bridge: no money moves here, the tickets become refunded. */
export async function importRefund(svc: OrdersService, ctx: AppContext<ImportRefundParams>): Promise<ImportResult> {
  const command: ImportRefund = { ...ctx.params, type: "ImportRefund", actor: ctx.meta.user ?? SYSTEM, at: Date.now() };
  const result = await svc.execute(
    ctx,
    orderDecider,
    orderStream(ctx.params.id),
    command,
    `import-refund:${ctx.params.refundId}`,
  );
  return { id: ctx.params.id, changed: !!result.commit && !result.duplicate, version: result.seq };
}
