/**
 * Local stand-in for YooKassa API v3 and its payment page: same paths, Basic auth, idempotence
 * keys, error bodies and webhooks, so the real client and our webhook handler run against it in
 * tests and in the quick start. A buyer "pays" on `/checkout/{id}` in a browser, or a test calls
 * `pay()`; faults (5xx, 429, slowness, and webhooks duplicated, reordered, lost, early or late) are
 * injected on demand.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { closeServer, isRecord, listenOnLoopback } from "../http";
import {
  CHECKOUT_PAGE_CSP,
  checkoutPage,
  DECLINE_REASONS,
  notFoundPage,
  statusPage,
  type DeclineReason,
} from "./yookassa.checkout-page";
import { after, WebhookSender, type WebhookDelivery, type WebhookMode } from "./yookassa.webhooks";
import { minorToValue, valueToMinor, type Amount, type CancellationDetails, type Payment, type Refund } from "./yookassa.port";

export { DECLINE_REASONS, type DeclineReason } from "./yookassa.checkout-page";
export type { WebhookDelivery, WebhookMode } from "./yookassa.webhooks";

/**
 * Injected misbehaviour. Each kind has its own slot: setting one leaves the others as they are,
 * `setFault(null)` clears them all.
 */
export type YookassaFault =
  | {
      /** 500/502/503: result unknown; 202: still processing; 429: too many requests. */
      status: 500 | 502 | 503 | 202 | 429;
      /** How many matching API requests get it; all of them when absent. */
      times?: number;
      /** Only API requests whose path starts with this, e.g. `/v3/payments`. */
      path?: string;
      /** `retry_after` in the error body (milliseconds). */
      retryAfterMs?: number;
      /** The operation is carried out and only the answer is lost: the real "result unknown". */
      afterProcessing?: boolean;
    }
  | { delayMs: number; times?: number; path?: string }
  | {
      webhook: WebhookMode;
      /** `delay`: how late each webhook goes out (default 1000 ms); `early`: how soon after creation (default 20 ms). */
      delayMs?: number;
    }
  | { neverComplete: boolean }
  /** Refunds are created `pending` and succeed (with their notification) this much later; 0 turns it off. */
  | { refundsPendingMs: number };

export interface RecordedRequest {
  method: string;
  path: string;
  idempotenceKey?: string;
  status: number;
}

export interface YookassaSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  shopId: string;
  secretKey: string;
  /** Where webhooks go; none are sent without it. */
  webhookUrl?: string;
  /** Base of `confirmation_url` as the buyer's browser reaches the simulator; default its own URL. */
  publicUrl?: string;
  /** A paid payment not captured within this is cancelled (`expired_on_capture`); default 7 days. */
  captureWindowMs?: number;
  /** A pending payment not paid within this is cancelled (`expired_on_confirmation`); default never. */
  confirmationWindowMs?: number;
  /** Attempts per webhook before giving up; default 4. */
  webhookAttempts?: number;
  /** Pause before the first webhook retry, doubled for each next one; default 100 ms. */
  webhookBackoffMs?: number;
  /** In `reorder` mode, how long webhooks are held before they go out in reverse; default 200 ms. */
  reorderHoldMs?: number;
  /**
   * Where payments, refunds and idempotence keys are kept across restarts (a JSON file, read at
   * start, rewritten whole after each change); in memory only when absent.
   */
  stateFile?: string;
  /** Told when the state file could not be written (the simulator keeps serving from memory). */
  onStateError?: (error: Error) => void;
}

export interface YookassaSimulator {
  /** e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The client's `baseUrl`: `{url}/v3/`. */
  readonly apiUrl: string;
  /** Copies: changing them changes nothing in the simulator. */
  readonly payments: ReadonlyMap<string, Payment>;
  readonly refunds: ReadonlyMap<string, Refund>;
  /** Every API request answered, faulted ones included, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Every webhook attempt, oldest first. */
  readonly deliveries: readonly WebhookDelivery[];
  /** The buyer pays: pending → waiting_for_capture (or succeeded when created with `capture: true`). */
  pay(paymentId: string): Payment;
  /** The bank refuses: pending → canceled by `payment_network`. */
  decline(paymentId: string, reason?: DeclineReason): Payment;
  setFault(fault: YookassaFault | null): void;
  /** Where webhooks go from now on (the receiver's port may only be known after it started). */
  setWebhookUrl(url: string): void;
  /** Sends held (`reorder`) webhooks now and waits until every delivery in flight has finished. */
  flushWebhooks(): Promise<void>;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: unknown;
}

/** The API object plus the fields YooKassa returns that the port does not read. */
interface SimulatedPayment extends Payment {
  recipient: { account_id: string; gateway_id: string };
  refundable: boolean;
  payment_method?: Record<string, unknown>;
}

interface PaymentRecord {
  payment: SimulatedPayment;
  /** Created with `capture: true`: paying completes it at once. */
  autoCapture: boolean;
  deadline?: NodeJS.Timeout;
}

interface StoredAnswer {
  fingerprint: string;
  answer: Answer;
  storedAt: number;
}

type ApiFault = Extract<YookassaFault, { status: number }> | Extract<YookassaFault, { delayMs: number }>;

const DAY_MS = 24 * 60 * 60 * 1000;
const STATE_VERSION = 1;
const SAVE_EVERY_MS = 250;

/** The state file's content. */
interface SimulatorState {
  version: number;
  payments: Array<{ payment: SimulatedPayment; autoCapture: boolean }>;
  refunds: Refund[];
  idempotence: Array<[string, StoredAnswer]>;
}
const MAX_BODY_BYTES = 1 << 20;

export async function startYookassaSimulator(options: YookassaSimulatorOptions): Promise<YookassaSimulator> {
  const simulator = new Simulator(options);
  simulator.restore();
  await simulator.listen(options.port ?? 0);
  return simulator;
}

class Simulator implements YookassaSimulator {
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch(() => sendJson(res, 500, apiError("internal_server_error", "Simulator failure")));
  });
  private readonly closing = new AbortController();
  private readonly webhooks: WebhookSender;
  private readonly records = new Map<string, PaymentRecord>();
  private readonly refundObjects = new Map<string, Refund>();
  private readonly idempotence = new Map<string, StoredAnswer>();
  private readonly requestLog: RecordedRequest[] = [];
  private apiFault: ApiFault | null = null;
  private apiFaultsLeft = 0;
  private neverComplete = false;
  private refundsPendingMs = 0;
  private base = "";
  private publicBase = "";
  private readonly captureWindowMs: number;
  /** Set when the state changed after the last write began. */
  private unsaved = false;
  private saving: Promise<void> | null = null;
  /** How long the last snapshot took to make (on the event loop). */
  private lastSaveMs = 0;

  constructor(private options: YookassaSimulatorOptions) {
    this.captureWindowMs = timerRange(options.captureWindowMs ?? 7 * DAY_MS, "captureWindowMs");
    this.webhooks = new WebhookSender({
      target: () => this.options.webhookUrl,
      closing: this.closing.signal,
      attempts: options.webhookAttempts,
      backoffMs: options.webhookBackoffMs,
      reorderHoldMs: options.reorderHoldMs,
    });
    if (options.confirmationWindowMs !== undefined) timerRange(options.confirmationWindowMs, "confirmationWindowMs");
  }

  async listen(port: number): Promise<void> {
    // With the long accept backlog: every buyer of a flash sale may press "pay" at the same moment.
    this.base = await listenOnLoopback(this.server, port);
    this.publicBase = (this.options.publicUrl ?? this.base).replace(/\/+$/, "");
  }

  get url(): string {
    return this.base;
  }

  get apiUrl(): string {
    return `${this.base}/v3/`;
  }

  get payments(): ReadonlyMap<string, Payment> {
    return new Map([...this.records].map(([id, record]) => [id, structuredClone(record.payment)]));
  }

  get refunds(): ReadonlyMap<string, Refund> {
    return new Map([...this.refundObjects].map(([id, refund]) => [id, structuredClone(refund)]));
  }

  get requests(): readonly RecordedRequest[] {
    return [...this.requestLog];
  }

  get deliveries(): readonly WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  pay(paymentId: string): Payment {
    const record = this.pendingRecord(paymentId);
    this.authorise(record);
    return structuredClone(record.payment);
  }

  decline(paymentId: string, reason: DeclineReason = "card_expired"): Payment {
    const record = this.pendingRecord(paymentId);
    this.cancel(record, { party: "payment_network", reason });
    return structuredClone(record.payment);
  }

  setFault(fault: YookassaFault | null): void {
    if (fault === null) {
      this.apiFault = null;
      this.webhooks.setMode("normal");
      this.neverComplete = false;
      this.refundsPendingMs = 0;
    } else if ("webhook" in fault) {
      this.webhooks.setMode(fault.webhook, fault.delayMs === undefined ? undefined : timerRange(fault.delayMs, "delayMs"));
    } else if ("neverComplete" in fault) {
      this.neverComplete = fault.neverComplete;
    } else if ("refundsPendingMs" in fault) {
      this.refundsPendingMs = timerRange(fault.refundsPendingMs, "refundsPendingMs");
    } else {
      this.apiFault = fault;
      this.apiFaultsLeft = fault.times ?? Number.POSITIVE_INFINITY;
    }
  }

  setWebhookUrl(url: string): void {
    this.options = { ...this.options, webhookUrl: url };
  }

  async flushWebhooks(): Promise<void> {
    await this.webhooks.flush();
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const record of this.records.values()) clearTimeout(record.deadline);
    await closeServer(this.server);
    await this.webhooks.close();
    await this.saving;
  }

  // -------------------------------------------------------------------------------------------
  // State across restarts

  /** Loads the state file, if any, and re-arms the deadlines of payments still open. */
  restore(): void {
    const file = this.options.stateFile;
    if (file === undefined) return;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    const state = JSON.parse(text) as SimulatorState;
    if (state.version !== STATE_VERSION) throw new Error(`${file}: unknown simulator state version ${String(state.version)}`);
    for (const { payment, autoCapture } of state.payments) {
      const record: PaymentRecord = { payment, autoCapture };
      this.records.set(payment.id, record);
      const window = this.options.confirmationWindowMs;
      if (payment.status === "pending" && window !== undefined) {
        const left = Date.parse(payment.created_at) + window - Date.now();
        this.schedule(record, Math.max(0, left), { party: "yoo_money", reason: "expired_on_confirmation" });
      } else if (payment.status === "waiting_for_capture" && payment.expires_at !== undefined) {
        const left = Math.min(Date.parse(payment.expires_at) - Date.now(), this.captureWindowMs);
        this.schedule(record, Math.max(0, left), { party: "yoo_money", reason: "expired_on_capture" });
      }
    }
    for (const refund of state.refunds) this.refundObjects.set(refund.id, refund);
    for (const [slot, stored] of state.idempotence) this.idempotence.set(slot, stored);
  }

  /**
   * Writes the state soon after a change. One write at a time, each of the whole state as it
   * is when it starts, at most one per SAVE_EVERY_MS: a burst of changes costs a few writes,
   * not one each (the whole state grows with the sale; writing it back to back was a tenth of
   * an on-sale's CPU). Written aside and renamed over the file, so a crash leaves the old state
   * or the new, never half of one; close() writes what is left at once.
   */
  private changed(): void {
    if (this.options.stateFile === undefined) return;
    this.unsaved = true;
    this.saving ??= this.save(this.options.stateFile);
  }

  private async save(file: string): Promise<void> {
    try {
      while (this.unsaved) {
        // Closing cuts the wait short: what is left is written at once. The pause grows with
        // the state (ten times the last write's own time), so writing it never takes more than
        // a tenth of the event loop however many payments it holds.
        const pause = Math.max(SAVE_EVERY_MS, 10 * this.lastSaveMs);
        await sleep(pause, undefined, { signal: this.closing.signal }).catch(() => undefined);
        this.unsaved = false;
        const tmp = `${file}.tmp`;
        const started = performance.now();
        const json = JSON.stringify(this.snapshot());
        this.lastSaveMs = performance.now() - started;
        await writeFile(tmp, json);
        await rename(tmp, file);
      }
    } catch (err) {
      this.options.onStateError?.(err as Error);
    } finally {
      this.saving = null;
    }
  }

  private snapshot(): SimulatorState {
    const fresh = Date.now() - DAY_MS;
    return {
      version: STATE_VERSION,
      payments: [...this.records.values()].map(({ payment, autoCapture }) => ({ payment, autoCapture })),
      refunds: [...this.refundObjects.values()],
      // Keys expire after a day (as YooKassa's do): older ones are not worth keeping.
      idempotence: [...this.idempotence].filter(([, stored]) => stored.storedAt > fresh),
    };
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://simulator").pathname;
    const raw = await readBody(req);
    if (raw === null) return sendJson(res, 413, apiError("invalid_request", "Request body is too large"));
    if (path.startsWith("/checkout/")) return this.checkout(req.method ?? "GET", path, raw, res);
    if (!path.startsWith("/v3/")) return sendJson(res, 404, apiError("not_found", "Unknown path"));

    const method = req.method ?? "GET";
    const key = header(req, "idempotence-key");
    const fault = this.takeFault(path);
    if (fault && "delayMs" in fault) {
      try {
        await sleep(fault.delayMs, undefined, { signal: this.closing.signal });
      } catch {
        return;
      }
    }
    let answer: Answer;
    if (fault && "status" in fault && !fault.afterProcessing) {
      answer = faultAnswer(fault);
    } else {
      answer = this.api(method, path, header(req, "authorization"), key, raw);
      if (fault && "status" in fault) answer = faultAnswer(fault);
    }
    this.requestLog.push({ method, path, ...(key === undefined ? {} : { idempotenceKey: key }), status: answer.status });
    sendJson(res, answer.status, answer.body);
  }

  private takeFault(path: string): ApiFault | null {
    const fault = this.apiFault;
    if (!fault || (fault.path !== undefined && !path.startsWith(fault.path))) return null;
    if (--this.apiFaultsLeft <= 0) this.apiFault = null;
    return fault;
  }

  private api(method: string, path: string, authorization: string | undefined, key: string | undefined, raw: string): Answer {
    if (!this.authorised(authorization)) {
      return { status: 401, body: apiError("invalid_credentials", "Authentication by given credentials failed") };
    }
    const segments = path.slice("/v3/".length).split("/");
    const [collection, id, action] = segments;
    if (method === "GET" && segments.length === 2 && collection === "payments") return this.getPayment(id);
    if (method === "GET" && segments.length === 2 && collection === "refunds") return this.getRefund(id);
    if (method !== "POST") return notFound("Unknown method");

    let handler: ((body: Record<string, unknown>) => Answer) | undefined;
    if (segments.length === 1 && collection === "payments") handler = (body) => this.createPayment(body);
    else if (segments.length === 1 && collection === "refunds") handler = (body) => this.createRefund(body);
    else if (segments.length === 3 && collection === "payments" && action === "capture")
      handler = (body) => this.capture(id, body);
    else if (segments.length === 3 && collection === "payments" && action === "cancel") handler = () => this.cancelByMerchant(id);
    if (!handler) return notFound("Unknown method");

    if (key === undefined || key === "") return invalid("Idempotence-Key header is required", "Idempotence-Key");
    if (key.length > 64) return invalid("Idempotence-Key must be at most 64 characters", "Idempotence-Key");
    let body: unknown;
    try {
      body = raw.trim() === "" ? {} : (JSON.parse(raw) as unknown);
    } catch {
      return invalid("Request body is not valid JSON");
    }
    if (!isRecord(body)) return invalid("Request body must be a JSON object");

    // Keys are scoped to the shop: the same key from another shop is another operation.
    const slot = `${this.options.shopId}\n${key}`;
    const fingerprint = `${method} ${path} ${canonicalJson(body)}`;
    const stored = this.idempotence.get(slot);
    if (stored && Date.now() - stored.storedAt < DAY_MS) {
      if (stored.fingerprint !== fingerprint) return invalid("Idempotence key duplicated", "Idempotence-Key");
      return stored.answer;
    }
    const answer = handler(body);
    // A 5xx means "unknown" to the client, which will repeat: that repeat must be processed, not replayed.
    if (answer.status < 500) this.idempotence.set(slot, { fingerprint, answer, storedAt: Date.now() });
    this.changed();
    return answer;
  }

  private authorised(authorization: string | undefined): boolean {
    if (!authorization?.startsWith("Basic ")) return false;
    const given = Buffer.from(authorization.slice("Basic ".length), "base64").toString("utf8");
    const digest = (text: string) => createHash("sha256").update(text).digest();
    return timingSafeEqual(digest(given), digest(`${this.options.shopId}:${this.options.secretKey}`));
  }

  // -------------------------------------------------------------------------------------------
  // API operations

  private createPayment(body: Record<string, unknown>): Answer {
    const amount = readAmount(body.amount, "amount");
    if (typeof amount === "string") return invalid(amount, "amount.value");
    if (valueToMinor(amount.value) === 0) return invalid("Amount must be greater than zero", "amount.value");
    if (body.capture !== undefined && typeof body.capture !== "boolean") return invalid("capture must be a boolean", "capture");

    let returnUrl: string | undefined;
    if (body.confirmation !== undefined) {
      if (!isRecord(body.confirmation) || body.confirmation.type !== "redirect") {
        return invalid("The simulator supports confirmation type redirect only", "confirmation.type");
      }
      const url = body.confirmation.return_url;
      if (typeof url !== "string" || !/^https?:\/\/./.test(url) || url.length > 2048) {
        return invalid("return_url must be an absolute http(s) URL", "confirmation.return_url");
      }
      returnUrl = url;
    }
    if (body.description !== undefined && (typeof body.description !== "string" || body.description.length > 128)) {
      return invalid("description must be a string of at most 128 characters", "description");
    }
    const metadata = readMetadata(body.metadata);
    if (typeof metadata === "string") return invalid(metadata, "metadata");
    if (body.receipt !== undefined) {
      const problem = receiptProblem(body.receipt, amount);
      if (problem !== null) return invalid(problem, "receipt");
    }

    const id = objectId();
    const payment: SimulatedPayment = {
      id,
      status: "pending",
      paid: false,
      amount,
      recipient: { account_id: this.options.shopId, gateway_id: "simulator" },
      created_at: new Date().toISOString(),
      metadata,
      refundable: false,
      test: true,
    };
    if (typeof body.description === "string") payment.description = body.description;
    if (body.confirmation !== undefined) {
      payment.confirmation = { type: "redirect", confirmation_url: `${this.publicBase}/checkout/${id}` };
      if (returnUrl !== undefined) payment.confirmation.return_url = returnUrl;
    }
    const record: PaymentRecord = { payment, autoCapture: body.capture === true };
    this.records.set(id, record);
    if (this.options.confirmationWindowMs !== undefined) {
      this.schedule(record, this.options.confirmationWindowMs, { party: "yoo_money", reason: "expired_on_confirmation" });
    }
    this.webhooks.createdPending(payment);
    return ok(payment);
  }

  private getPayment(id: string): Answer {
    const record = this.records.get(id);
    return record ? ok(record.payment) : notFound(`Payment ${id} doesn't exist`);
  }

  private capture(id: string, body: Record<string, unknown>): Answer {
    const record = this.records.get(id);
    if (!record) return notFound(`Payment ${id} doesn't exist`);
    const { payment } = record;
    if (payment.status !== "waiting_for_capture") {
      return invalid(`Payment ${id} is ${payment.status}; only waiting_for_capture can be captured`);
    }
    let captured = payment.amount;
    if (body.amount !== undefined) {
      const amount = readAmount(body.amount, "amount");
      if (typeof amount === "string") return invalid(amount, "amount.value");
      if (amount.currency !== payment.amount.currency) return invalid("Currency differs from the payment's", "amount.currency");
      const minor = valueToMinor(amount.value);
      if (minor === 0 || minor > valueToMinor(payment.amount.value)) {
        return invalid(`Capture amount must be above zero and at most ${payment.amount.value}`, "amount.value");
      }
      captured = amount;
    }
    clearTimeout(record.deadline);
    payment.status = "succeeded";
    payment.amount = captured;
    payment.captured_at = new Date().toISOString();
    payment.refundable = true;
    delete payment.expires_at;
    this.webhooks.notify("payment.succeeded", payment);
    return ok(payment);
  }

  private cancelByMerchant(id: string): Answer {
    const record = this.records.get(id);
    if (!record) return notFound(`Payment ${id} doesn't exist`);
    const { status } = record.payment;
    if (status !== "pending" && status !== "waiting_for_capture") {
      return invalid(`Payment ${id} is ${status}; only pending or waiting_for_capture can be canceled`);
    }
    this.cancel(record, { party: "merchant", reason: "canceled_by_merchant" });
    return ok(record.payment);
  }

  private createRefund(body: Record<string, unknown>): Answer {
    if (typeof body.payment_id !== "string") return invalid("payment_id is required", "payment_id");
    const record = this.records.get(body.payment_id);
    if (!record) return invalid(`Payment ${body.payment_id} doesn't exist`, "payment_id");
    const { payment } = record;
    if (payment.status !== "succeeded")
      return invalid(`Payment ${payment.id} is ${payment.status}; only succeeded can be refunded`, "payment_id");
    const amount = readAmount(body.amount, "amount");
    if (typeof amount === "string") return invalid(amount, "amount.value");
    if (amount.currency !== payment.amount.currency) return invalid("Currency differs from the payment's", "amount.currency");
    if (body.description !== undefined && (typeof body.description !== "string" || body.description.length > 250)) {
      return invalid("description must be a string of at most 250 characters", "description");
    }
    const minor = valueToMinor(amount.value);
    const refunded = payment.refunded_amount ? valueToMinor(payment.refunded_amount.value) : 0;
    const left = valueToMinor(payment.amount.value) - refunded;
    if (minor === 0 || minor > left) {
      return invalid(
        `Refund amount must be above zero and at most ${minorToValue(left)}, what is left of the payment`,
        "amount.value",
      );
    }

    const refund: Refund = {
      id: objectId(),
      payment_id: payment.id,
      status: this.refundsPendingMs > 0 ? "pending" : "succeeded",
      amount,
      created_at: new Date().toISOString(),
    };
    if (typeof body.description === "string") refund.description = body.description;
    this.refundObjects.set(refund.id, refund);
    payment.refunded_amount = { value: minorToValue(refunded + minor), currency: payment.amount.currency };
    payment.refundable = refunded + minor < valueToMinor(payment.amount.value);
    if (refund.status === "succeeded") this.webhooks.notify("refund.succeeded", refund);
    else
      void after(this.refundsPendingMs, this.closing.signal).then((go) => {
        if (!go) return;
        refund.status = "succeeded";
        this.changed();
        this.webhooks.notify("refund.succeeded", refund);
      });
    return ok(refund);
  }

  private getRefund(id: string): Answer {
    const refund = this.refundObjects.get(id);
    return refund ? ok(refund) : notFound(`Refund ${id} doesn't exist`);
  }

  // -------------------------------------------------------------------------------------------
  // The buyer's side

  private checkout(method: string, path: string, raw: string, res: ServerResponse): void {
    const match = /^\/checkout\/([A-Za-z0-9-]+)(?:\/(pay|decline))?$/.exec(path);
    const record = match ? this.records.get(match[1]) : undefined;
    if (!match || !record) return sendHtml(res, 404, notFoundPage());
    const [, id, action] = match;
    const { payment } = record;

    if (action === undefined) {
      if (method !== "GET" && method !== "HEAD") return sendHtml(res, 405, notFoundPage());
      const links = { pay: `${this.publicBase}/checkout/${id}/pay`, decline: `${this.publicBase}/checkout/${id}/decline` };
      return sendHtml(
        res,
        200,
        payment.status === "pending" ? checkoutPage(payment, this.options.shopId, links) : statusPage(payment),
      );
    }
    if (method !== "POST") return sendHtml(res, 405, notFoundPage());
    if (payment.status !== "pending") return sendHtml(res, 409, statusPage(payment));
    if (action === "pay") {
      this.authorise(record);
    } else {
      const asked = new URLSearchParams(raw).get("reason");
      const reason = DECLINE_REASONS.find((known) => known === asked) ?? "card_expired";
      this.cancel(record, { party: "payment_network", reason });
    }
    // 303 so the browser follows with a GET, as after YooKassa's own page.
    res.writeHead(303, { location: payment.confirmation?.return_url ?? `${this.publicBase}/checkout/${id}` });
    res.end();
  }

  private pendingRecord(paymentId: string): PaymentRecord {
    const record = this.records.get(paymentId);
    if (!record) throw new Error(`no payment ${paymentId} in the simulator`);
    if (record.payment.status !== "pending") throw new Error(`payment ${paymentId} is ${record.payment.status}, not pending`);
    return record;
  }

  private authorise(record: PaymentRecord): void {
    if (this.neverComplete) return;
    const { payment } = record;
    clearTimeout(record.deadline);
    payment.paid = true;
    payment.payment_method = {
      type: "bank_card",
      id: payment.id,
      saved: false,
      title: "Bank card *4477",
      card: { first6: "555555", last4: "4477", expiry_month: "12", expiry_year: "2030", card_type: "MasterCard" },
    };
    if (record.autoCapture) {
      payment.status = "succeeded";
      payment.captured_at = new Date().toISOString();
      payment.refundable = true;
      this.changed();
      this.webhooks.notify("payment.succeeded", payment);
      return;
    }
    payment.status = "waiting_for_capture";
    payment.expires_at = new Date(Date.now() + this.captureWindowMs).toISOString();
    this.schedule(record, this.captureWindowMs, { party: "yoo_money", reason: "expired_on_capture" });
    this.changed();
    this.webhooks.notify("payment.waiting_for_capture", payment);
  }

  private cancel(record: PaymentRecord, details: CancellationDetails): void {
    const { payment } = record;
    clearTimeout(record.deadline);
    payment.status = "canceled";
    payment.paid = false;
    payment.cancellation_details = details;
    delete payment.expires_at;
    this.changed();
    this.webhooks.notify("payment.canceled", payment);
  }

  /** Cancels the payment if it is still in the status it has now when `ms` have passed. */
  private schedule(record: PaymentRecord, ms: number, details: CancellationDetails): void {
    const status = record.payment.status;
    clearTimeout(record.deadline);
    record.deadline = setTimeout(() => {
      if (record.payment.status === status) this.cancel(record, details);
    }, ms);
    record.deadline.unref();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function faultAnswer(fault: Extract<YookassaFault, { status: number }>): Answer {
  const retryAfter = fault.retryAfterMs === undefined ? {} : { retry_after: fault.retryAfterMs };
  if (fault.status === 429) {
    return { status: 429, body: { ...apiError("too_many_requests", "Too many requests"), ...retryAfter } };
  }
  if (fault.status === 202) {
    // The shape of YooKassa's "still processing" answer is not documented here (unverified).
    return {
      status: 202,
      body: { type: "processing", id: randomUUID(), description: "Request accepted", retry_after: fault.retryAfterMs ?? 100 },
    };
  }
  const body = apiError("internal_server_error", "Internal server error; repeat the request with the same Idempotence-Key");
  return { status: fault.status, body: { ...body, ...retryAfter } };
}

function apiError(code: string, description: string, parameter?: string): Record<string, unknown> {
  return { type: "error", id: randomUUID(), code, description, ...(parameter === undefined ? {} : { parameter }) };
}

/** A snapshot: a stored answer must replay the object as it was, not as it is now. */
function ok(object: Payment | Refund): Answer {
  return { status: 200, body: structuredClone(object) };
}

function invalid(description: string, parameter?: string): Answer {
  return { status: 400, body: apiError("invalid_request", description, parameter) };
}

function notFound(description: string): Answer {
  return { status: 404, body: apiError("not_found", description) };
}

/** An Amount, or what is wrong with it. */
function readAmount(value: unknown, path: string): Amount | string {
  if (!isRecord(value)) return `${path} is required`;
  if (typeof value.value !== "string" || !/^\d+(\.\d{1,2})?$/.test(value.value))
    return `${path}.value must be a string like "1500.00"`;
  if (typeof value.currency !== "string" || !/^[A-Z]{3}$/.test(value.currency))
    return `${path}.currency must be an ISO 4217 code`;
  let minor: number;
  try {
    minor = valueToMinor(value.value);
  } catch {
    return `${path}.value is out of range`;
  }
  // YooKassa answers with two decimals whatever it was sent.
  return { value: minorToValue(minor), currency: value.currency };
}

function readMetadata(value: unknown): Record<string, string> | string {
  if (value === undefined) return {};
  if (!isRecord(value)) return "metadata must be an object";
  const entries = Object.entries(value);
  if (entries.length > 16) return "metadata may have at most 16 keys";
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (key.length > 32) return `metadata key ${key.slice(0, 40)} is longer than 32 characters`;
    if (typeof item !== "string" || item.length > 512) return `metadata.${key} must be a string of at most 512 characters`;
    out[key] = item;
  }
  return out;
}

/** The checks that catch real mistakes: no contact, no items, items that do not add up to the amount. */
function receiptProblem(receipt: unknown, amount: Amount): string | null {
  if (!isRecord(receipt)) return "receipt must be an object";
  const customer = receipt.customer;
  if (!isRecord(customer) || (typeof customer.email !== "string" && typeof customer.phone !== "string")) {
    return "receipt.customer needs an email or a phone";
  }
  if (!Array.isArray(receipt.items) || receipt.items.length === 0) return "receipt.items must not be empty";
  let total = 0;
  for (const item of receipt.items) {
    if (!isRecord(item) || typeof item.description !== "string" || typeof item.vat_code !== "number") {
      return "every receipt item needs a description and a vat_code";
    }
    const line = readAmount(item.amount, "receipt.items.amount");
    const quantity = Number(item.quantity);
    if (typeof line === "string") return line;
    if (!Number.isFinite(quantity) || quantity <= 0) return "receipt item quantity must be a positive number";
    total += Math.round(valueToMinor(line.value) * quantity);
  }
  if (total !== valueToMinor(amount.value)) return "receipt items do not add up to the payment amount";
  return null;
}

/** Shaped like YooKassa's ids (a UUID whose middle groups are fixed), so logs look familiar. */
function objectId(): string {
  const hex = randomUUID().replace(/-/g, "");
  return `${hex.slice(0, 8)}-000f-5000-${"89ab"[Number.parseInt(hex[8], 16) & 3]}${hex.slice(9, 12)}-${hex.slice(12, 24)}`;
}

/** Key order does not make two bodies different. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** setTimeout fires at once for anything past 2^31-1 ms (about 24.8 days). */
function timerRange(ms: number, name: string): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1)
    throw new TypeError(`YooKassa simulator: ${name} must be 0 to ${2 ** 31 - 1} ms`);
  return ms;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `null` when the body is over the limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": CHECKOUT_PAGE_CSP,
    "cache-control": "no-store",
  });
  res.end(html);
}
