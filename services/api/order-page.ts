import type { IncomingMessage, ServerResponse } from "node:http";
import type { Service } from "moleculer";
import { SYSTEM } from "../../lib/app/context";
import type { Runtime } from "../../lib/app/runtime";
import { orderNotFoundPage, orderPage, ORDER_PAGE_HEADERS, type OrderPageView } from "../../lib/http/order-page";
import type { Order } from "../orders/orders.types";
import type { EventDoc } from "../events/events.types";

type PageRequest = IncomingMessage & { $params?: Record<string, unknown> };

/**
 * `GET /orders/:id?t=<capability>`: the page the payment provider sends the buyer back to
 * (its return URL, made by rt.orderLinks). Outside /api: it answers HTML to a browser that has
 * no token, and only with the capability of that very order; without it, the order does not
 * exist, as for a stranger's order in the API.
 */
export function orderPageRoute(rt: Runtime) {
  return {
    path: "/orders",
    authentication: false,
    authorization: false,
    autoAliases: false,
    mappingPolicy: "restrict",
    bodyParsers: false,
    aliases: {
      async "GET :id"(this: Service, req: PageRequest, res: ServerResponse) {
        const { id, t } = req.$params ?? {};
        if (typeof id !== "string" || !rt.orderLinks.verify(id, t)) return send(res, 404, orderNotFoundPage());
        // The capability stands for the buyer: read as the system, show only the buyer's part.
        const order = await this.broker
          .call<Order, { id: string }>("orders.get", { id }, { meta: { user: SYSTEM } })
          .catch((err: { code?: number }) => {
            if (err.code === 404) return null;
            throw err;
          });
        if (!order) return send(res, 404, orderNotFoundPage());
        send(res, 200, await orderPage(await pageView(this, order)));
      },
    },
  };
}

async function pageView(svc: Service, order: Order): Promise<OrderPageView> {
  // The event only adds its name and date: the page still serves when the catalogue does not answer.
  const event = await svc.broker
    .call<EventDoc, { id: string }>("events.get", { id: order.eventId }, { meta: { user: SYSTEM } })
    .catch(() => null);
  return {
    number: order.number,
    status: order.status,
    amount: order.amount,
    currency: order.currency,
    lines: order.lines.map(({ categoryName, quantity, unitPrice }) => ({ categoryName, quantity, unitPrice })),
    tickets: order.tickets.map(({ series, number, categoryName, barcode, status, row, seat, sector }) => ({
      series,
      number,
      categoryName,
      barcode,
      status,
      ...(row === undefined ? {} : { row }),
      ...(seat === undefined ? {} : { seat }),
      ...(sector === undefined ? {} : { sector }),
    })),
    ...(event ? { event: { name: event.name, startsAtIso: event.startsAtIso, venue: event.venue?.name } } : {}),
  };
}

function send(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) return;
  res.writeHead(status, ORDER_PAGE_HEADERS);
  res.end(html);
}
