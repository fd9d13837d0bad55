import { handleCommand } from "../../../lib/eventlog/decider";
import { projectInto } from "../../../lib/eventlog/projection";
import { EmbeddedStore } from "../../../lib/store/embedded/embedded-store";
import { orderDecider } from "../../../services/orders/orders.decider";
import { ordersProjection, type OrderDoc } from "../../../services/orders/orders.projection";
import { SALES_LOG } from "../../../services/inventory/inventory.types";
import { orderStream, type OrderCommand } from "../../../services/orders/orders.types";
import { attach, place, system, T0 } from "./fixtures";

/** The orders read model after these commands, through the decider, a real (in-memory) log and the projection. */
async function projected(commands: OrderCommand[]): Promise<OrderDoc> {
  const store = await EmbeddedStore.open({ logs: [SALES_LOG] });
  try {
    const log = store.log(SALES_LOG);
    for (const command of commands) await handleCommand(log, orderDecider, orderStream("o1"), command);
    await projectInto(ordersProjection, store, "orders", await log.readFrom(0, 100));
    return (await store.collection<OrderDoc>("orders").get("o1"))!;
  } finally {
    await store.close();
  }
}

describe("orders read model: what the provider sweeps look for", () => {
  test("an order awaiting its payment is flagged openPayment, and the flag goes once it is cancelled with the payment closed", async () => {
    const waiting = await projected([place, attach]);
    expect(waiting.openPayment).toBe(true);
    expect(waiting.openRefunds).toBeUndefined();

    const cancel = { type: "CancelOrder", actor: system, at: T0, id: "o1", reason: "customer" } as OrderCommand;
    const cancelled = await projected([place, attach, cancel]);
    expect(cancelled.status).toBe("cancelled");
    // Cancelled, but the provider may still hold the payment until it is closed.
    expect(cancelled.openPayment).toBe(true);

    const close = {
      type: "ClosePayment",
      actor: system,
      at: T0,
      id: "o1",
      paymentId: "pay-1",
      outcome: "canceled",
    } as OrderCommand;
    const closed = await projected([place, attach, cancel, close]);
    // The flag of the document before is not carried over.
    expect("openPayment" in closed).toBe(false);
  });

  test("a placed order without a payment carries no flag at all (the sparse indexes stay small)", async () => {
    const doc = await projected([place]);
    expect("openPayment" in doc).toBe(false);
    expect("openRefunds" in doc).toBe(false);
  });
});
