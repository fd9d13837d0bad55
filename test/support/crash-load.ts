import type { apiClient, ApiResponse } from "./api-client";

type Api = ReturnType<typeof apiClient>;

/** One event on sale: a general-admission category and a seated one. */
export interface SaleEvent {
  id: string;
  ga: { categoryId: string; quota: number };
  seated: { categoryId: string; seats: string[] };
}

/**
 * What the product told clients it had done, over all rounds: each of these must be in the
 * log after the crashes. An answer that arrived is an acknowledgement even if the process was
 * killed right after sending it.
 */
export interface Acknowledged {
  /** 201 to POST /orders: order id -> event id. */
  placed: Map<string, string>;
  /** 200 to POST /orders/:id/cancel: the order's status in that answer (closed for good). */
  closed: Map<string, string>;
  /** Orders GET /orders/:id showed paid. */
  paid: Set<string>;
  /** 202 to POST /orders/:id/refunds: the order's status in that answer. */
  refunded: Map<string, string>;
}

export function noAcknowledgements(): Acknowledged {
  return { placed: new Map(), closed: new Map(), paid: new Set(), refunded: new Map() };
}

/** What one round of load did, for the test's log. */
export interface RoundFigures {
  accepted: number;
  /** Answers other than an order (sold out, seat taken, limits, busy) or a refund, by kind. */
  refused: Record<string, number>;
  paid: number;
  cancelled: number;
  declined: number;
  abandoned: number;
  refunds: number;
  /** Requests that failed before the kill (the product should not drop connections on its own). */
  errorsBeforeKill: string[];
  /** Requests sent and not yet answered when the process was killed. */
  inFlightAtKill: number;
}

export interface Load {
  /** Orders accepted (201) in this round so far. */
  readonly accepted: number;
  /** Requests sent and not answered yet. */
  readonly inFlight: number;
  /** No buyer sends anything new from now on; call right before the kill. */
  stop(): void;
  /** Resolves when every buyer has given up (their requests in flight failed with the process). */
  done: Promise<RoundFigures>;
}

export interface LoadOptions {
  api: Api;
  buyers: string[];
  organizer: string;
  events: SaleEvent[];
  acks: Acknowledged;
  /** Buyers at once. */
  concurrency: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * Concurrent buyers who never pause: each places an order (a GA ticket or two, or a seat picked
 * at random, taken or not), then pays it on the simulator's checkout page, cancels it, declines
 * the payment or abandons it; the organizer refunds some paid orders. They go on until
 * stop(); what the product answered is recorded in `acks`.
 */
export function startLoad(options: LoadOptions): Load {
  const { api, acks } = options;
  let stopped = false;
  let inFlight = 0;
  const figures: RoundFigures = {
    accepted: 0,
    refused: {},
    paid: 0,
    cancelled: 0,
    declined: 0,
    abandoned: 0,
    refunds: 0,
    errorsBeforeKill: [],
    inFlightAtKill: 0,
  };
  const tracked = async <T>(request: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await request();
    } finally {
      inFlight--;
    }
  };
  const call = <T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) =>
    tracked<ApiResponse<T>>(() => api<T>(method, path, { token, body }));
  const checkout = (url: string, action: "pay" | "decline") =>
    tracked(() => fetch(`${url}/${action}`, { method: "POST", redirect: "manual" }).then((r) => r.status));

  const order = (n: number) => {
    const event = pick(options.events);
    const lines =
      Math.random() < 0.3
        ? { seats: [{ categoryId: event.seated.categoryId, seatId: pick(event.seated.seats) }] }
        : { items: [{ categoryId: event.ga.categoryId, quantity: 1 + Math.floor(Math.random() * 2) }] };
    return {
      eventId: event.id,
      customer: { email: `buyer${n}@example.com`, phone: `+7900${String(n).padStart(7, "0")}` },
      ...lines,
    };
  };

  /** Polls the order (read from the log) until it is paid; false when it was not within a few seconds. */
  const seenPaid = async (token: string, id: string): Promise<boolean> => {
    for (let i = 0; i < 20 && !stopped; i++) {
      const res = await call<{ status: string }>("GET", `/orders/${id}`, token);
      if (res.body?.status === "paid") return true;
      if (res.status === 200 && res.body.status !== "awaiting_payment") return false;
      await sleep(150);
    }
    return false;
  };

  const refused = (kind: string) => {
    figures.refused[kind.trim()] = (figures.refused[kind.trim()] ?? 0) + 1;
  };

  const buy = async (token: string, n: number): Promise<void> => {
    const body = order(n);
    const placed = await call<{ id: string; payment: { confirmationUrl: string } | null; type?: string }>(
      "POST",
      "/orders",
      token,
      body,
    );
    if (placed.status !== 201) return refused(`${placed.status} ${placed.body?.type ?? ""}`);
    const { id, payment } = placed.body;
    acks.placed.set(id, body.eventId);
    figures.accepted++;
    if (stopped) return;
    const fate = Math.random();
    if (fate < 0.15 || !payment) {
      figures.abandoned++;
    } else if (fate < 0.35) {
      const cancelled = await call<{ status: string }>("POST", `/orders/${id}/cancel`, token);
      if (cancelled.status === 200) {
        acks.closed.set(id, cancelled.body.status);
        figures.cancelled++;
      }
    } else if (fate < 0.45) {
      if ((await checkout(payment.confirmationUrl, "decline")) < 400) figures.declined++;
    } else if ((await checkout(payment.confirmationUrl, "pay")) < 400 && (await seenPaid(token, id))) {
      acks.paid.add(id);
      figures.paid++;
    }
  };

  /** Refunds a paid order (of this round or an earlier one) now and then: a third of them at most. */
  const refunder = async (): Promise<void> => {
    const asked = new Set<string>();
    while (!stopped) {
      const id = [...acks.paid].find((paid) => !acks.refunded.has(paid) && !asked.has(paid));
      if (!id || acks.refunded.size * 3 >= acks.paid.size) {
        await sleep(200);
        continue;
      }
      asked.add(id);
      try {
        const refund = await call<{ order: { status: string }; type?: string }>(
          "POST",
          `/orders/${id}/refunds`,
          options.organizer,
          {},
        );
        if (refund.status !== 202) refused(`refund ${refund.status} ${refund.body?.type ?? ""}`);
        else {
          acks.refunded.set(id, refund.body.order.status);
          figures.refunds++;
        }
      } catch (err) {
        if (stopped) return;
        figures.errorsBeforeKill.push(String((err as Error).cause ?? (err as Error).message));
      }
    }
  };

  const buyer = async (): Promise<void> => {
    while (!stopped) {
      const n = Math.floor(Math.random() * options.buyers.length);
      try {
        await buy(options.buyers[n], n);
      } catch (err) {
        if (stopped) return;
        figures.errorsBeforeKill.push(String((err as Error).cause ?? (err as Error).message));
        await sleep(100);
      }
    }
  };

  const done = Promise.all([refunder(), ...Array.from({ length: options.concurrency }, () => buyer())]).then(() => figures);
  return {
    get accepted() {
      return figures.accepted;
    },
    get inFlight() {
      return inFlight;
    },
    stop() {
      stopped = true;
      figures.inFlightAtKill = inFlight;
    },
    done,
  };
}
