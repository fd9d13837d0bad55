import type { MongoStore } from "../../lib/store/mongo/mongo-store";
import type { Cluster } from "../support/cluster";
import {
  checkSettledSale,
  latencies,
  openHotSale,
  runBuyers,
  seatIds,
  startSaleCluster,
  stockOf,
  waitUntilSettled,
  watchStock,
  type SaleCluster,
  type StockWatch,
} from "../support/flash-sale";
import { devIssuerOf } from "../support/quickstart";

const BUYERS = 2000;
const GA = 300;
const SEATS = seatIds(200);
const CAPACITY = GA + SEATS.length;
const HOLD_TTL_MS = 4000;

/**
 * A flash sale in the distributed mode: gateway, catalogue and sales as three processes over
 * NATS and the MongoDB protocol, buyers over HTTP, payments through the YooKassa simulator.
 */
describe("flash sale over NATS: never oversell, never a seat twice, never charge without tickets", () => {
  let sale: SaleCluster;
  let cluster: Cluster;
  let api: SaleCluster["api"];
  let store: MongoStore;
  let watch: StockWatch | null = null;

  beforeAll(async () => {
    sale = await startSaleCluster(
      {
        gateway: "api,runners",
        catalogue: "organizers,artists,venues,events,runners",
        sales: "inventory,orders,tickets,runners",
      },
      "flash",
      HOLD_TTL_MS,
    );
    ({ cluster, api, store } = sale);
  }, 90_000);

  afterAll(async () => {
    await watch?.stop().catch(() => undefined);
    await sale?.stop();
  }, 30_000);

  test(`${BUYERS} buyers for ${CAPACITY} tickets, some declining or abandoning`, async () => {
    const issuer = await devIssuerOf(cluster.env);
    await openHotSale(api, issuer, { ga: GA, seats: SEATS });

    // Watch the read model through the whole sale: availability never goes below zero.
    const stock = stockOf(store);
    watch = watchStock(stock);

    const tokens = await Promise.all(
      Array.from({ length: BUYERS }, (_, i) => issuer.mint({ sub: `buyer-${i}`, roles: ["customer"] })),
    );
    // On a loaded machine a payment can settle after its 4-second hold lapsed and the place was
    // sold again: that buyer is refused (never charged) and tries again, as a person would.
    const { outcome, placedBy, answers } = await runBuyers({
      api,
      tokens,
      seats: SEATS,
      stock,
      holdTtlMs: HOLD_TTL_MS,
      retryRefusedPayments: true,
    });
    await waitUntilSettled(api, stock, { adminToken: await issuer.mint({ sub: "ops", roles: ["admin"] }) });
    const sold = await stock();
    await watch.stop();

    const settled = await checkSettledSale(store, { capacity: CAPACITY, placed: placedBy.values(), soldOut: true });
    expect(Object.values(sold!.categories).reduce((n, c) => n + c.sold, 0)).toBe(CAPACITY);
    expect(watch.observations).toBeGreaterThan(5);
    console.log(JSON.stringify({ ...outcome, ...settled, observations: watch.observations, ms: latencies(answers) }));
  }, 360_000);
});
