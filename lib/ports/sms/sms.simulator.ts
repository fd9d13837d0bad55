/**
 * Local stand-in for SMS.ru's `sms/send`: same path, form parameters and JSON answers, so the
 * real client runs against it in tests and in the quick start. It checks the api_id, keeps
 * what it "sent" (`messages`, or `GET /__sim/messages`), and misbehaves on demand: HTTP 5xx or
 * 429 with Retry-After, a top-level ERROR, slowness, numbers it refuses, or being down.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { closeServer, isRecord, listenOnLoopback } from "../http";
import { readBody, retryAfterHeader, sendJson } from "../simulator-io";
import { SMSRU_CODES } from "./smsru.codes";

export interface SimulatedSms {
  smsId: string;
  /** E.164, e.g. +79001234567. */
  to: string;
  text: string;
  from?: string;
  receivedAt: string;
}

/** Applies to the next `times` send requests (all of them when omitted); one fault at a time. */
export type SmsFault =
  | { status: number; retryAfterSeconds?: number; times?: number }
  /** A top-level `status: "ERROR"` with this code (e.g. 220 "temporarily unavailable", 201 "no money"). */
  | { statusCode: number; times?: number }
  | { delayMs: number; times?: number };

export interface SmsSimulatorOptions {
  /** 0 or absent: a free port. */
  port?: number;
  apiId: string;
  /** Numbers (E.164) refused with code 207 from the start. */
  refused?: string[];
  /** Starting balance in roubles; default 1000. */
  balance?: number;
}

export interface SmsSimulator {
  /** e.g. `http://127.0.0.1:40123`: the client's base URL. */
  readonly url: string;
  /** Send requests received, faulted ones included. */
  readonly requests: number;
  /** Copies, oldest first. */
  readonly messages: readonly SimulatedSms[];
  /** `null` clears the current fault. */
  setFault(fault: SmsFault | null): void;
  /** The number (E.164) is refused from now on (`status: "ERROR"`, code 207). */
  refuse(phone: string): void;
  accept(phone: string): void;
  /** Down: the port refuses connections (the server stops listening); up again on the same port. */
  setDown(down: boolean): Promise<void>;
  /** Forgets the recorded messages. */
  clear(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const PRICE = 3.5;

export async function startSmsSimulator(options: SmsSimulatorOptions): Promise<SmsSimulator> {
  if (options.apiId.trim() === "") throw new TypeError("startSmsSimulator: apiId is empty");
  const simulator = new Simulator(options);
  await simulator.listen(options.port ?? 0);
  return simulator;
}

class Simulator implements SmsSimulator {
  private server: Server = this.newServer();
  private readonly closing = new AbortController();
  private readonly refusedNumbers: Set<string>;
  private readonly sent: SimulatedSms[] = [];
  private fault: SmsFault | null = null;
  private faultsLeft = 0;
  private count = 0;
  private balance: number;
  private port = 0;
  private down = false;
  url = "";

  constructor(private readonly options: SmsSimulatorOptions) {
    this.refusedNumbers = new Set((options.refused ?? []).map(digits));
    this.balance = options.balance ?? 1000;
  }

  async listen(port: number): Promise<void> {
    this.url = await listenOnLoopback(this.server, port);
    this.port = Number(new URL(this.url).port);
  }

  get requests(): number {
    return this.count;
  }

  get messages(): readonly SimulatedSms[] {
    return this.sent.map((m) => ({ ...m }));
  }

  setFault(fault: SmsFault | null): void {
    this.fault = fault;
    this.faultsLeft = fault?.times ?? Number.POSITIVE_INFINITY;
  }

  refuse(phone: string): void {
    this.refusedNumbers.add(digits(phone));
  }

  accept(phone: string): void {
    this.refusedNumbers.delete(digits(phone));
  }

  async setDown(down: boolean): Promise<void> {
    if (down === this.down) return;
    this.down = down;
    if (down) return closeServer(this.server);
    this.server = this.newServer();
    await listenOnLoopback(this.server, this.port);
  }

  clear(): void {
    this.sent.length = 0;
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (!this.down) await closeServer(this.server);
    this.down = true;
  }

  private newServer(): Server {
    return createServer((req, res) => {
      this.handle(req, res).catch(() =>
        sendJson(res, 500, { status: "ERROR", status_code: 500, status_text: "Simulator failure" }),
      );
    });
  }

  private takeFault(): SmsFault | null {
    const current = this.fault;
    if (current && --this.faultsLeft <= 0) this.fault = null;
    return current;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator");
    const body = (await readBody(req, MAX_BODY_BYTES)).toString("utf8");
    if (url.pathname === "/__sim/messages" && req.method === "GET") return sendJson(res, 200, { messages: this.messages });
    if (url.pathname === "/__sim/messages" && req.method === "DELETE") {
      this.clear();
      return sendJson(res, 200, { messages: [] });
    }
    if (url.pathname === "/__sim/fault" && req.method === "POST") return this.controlFault(res, body);
    if (url.pathname !== "/sms/send")
      return sendJson(res, 404, { status: "ERROR", status_code: 211, status_text: "Метод не найден" });
    if (req.method !== "POST" && req.method !== "GET") return sendJson(res, 405, { status: "ERROR", status_code: 210 });

    this.count += 1;
    const fault = this.takeFault();
    if (fault && "status" in fault) {
      const body = { status: "ERROR", status_code: 500, status_text: "Simulated failure" };
      return sendJson(res, fault.status, body, retryAfterHeader(fault.retryAfterSeconds));
    }
    if (fault && "delayMs" in fault) {
      try {
        await sleep(fault.delayMs, undefined, { signal: this.closing.signal });
      } catch {
        return;
      }
    }
    if (fault && "statusCode" in fault) return sendJson(res, 200, topLevelError(fault.statusCode));

    // SMS.ru takes its parameters from the query or a form body alike.
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
    if (params.get("api_id") !== this.options.apiId) return sendJson(res, 200, topLevelError(200));
    if (params.get("json") !== "1") {
      // The real service answers plain text then; the simulator only speaks JSON.
      return sendJson(res, 400, topLevelError(211, "The simulator answers json=1 only"));
    }
    const text = params.get("msg") ?? "";
    if (text.trim() === "") return sendJson(res, 200, topLevelError(203));
    const numbers = (params.get("to") ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    if (numbers.length === 0) return sendJson(res, 200, topLevelError(202));
    if (numbers.length > 100) return sendJson(res, 200, topLevelError(213));

    const from = params.get("from") ?? undefined;
    const sms: Record<string, unknown> = {};
    for (const number of numbers) sms[number] = this.deliver(number, text, from);
    sendJson(res, 200, { status: "OK", status_code: 100, sms, balance: Math.round(this.balance * 100) / 100 });
  }

  private deliver(number: string, text: string, from: string | undefined): Record<string, unknown> {
    const phone = digits(number);
    if (!/^[1-9]\d{9,14}$/.test(phone)) return numberError(202);
    if (this.refusedNumbers.has(phone)) return numberError(207);
    // SMS.ru's ids look like "000000-10000000".
    const smsId = `${String(this.sent.length + 1).padStart(6, "0")}-${randomBytes(4).readUInt32BE(0)}`;
    this.sent.push({ smsId, to: `+${phone}`, text, ...(from ? { from } : {}), receivedAt: new Date().toISOString() });
    this.balance -= PRICE;
    return { status: "OK", status_code: 100, sms_id: smsId };
  }

  private controlFault(res: ServerResponse, body: string): void {
    let parsed: unknown;
    try {
      parsed = body.trim() === "" ? null : JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: "the body must be JSON: a fault, or null to clear" });
    }
    if (parsed !== null && !isRecord(parsed)) return sendJson(res, 400, { error: "a fault is an object" });
    this.setFault(parsed as SmsFault | null);
    sendJson(res, 200, { fault: parsed });
  }
}

function digits(phone: string): string {
  return phone.replace(/\D/g, "");
}

function topLevelError(code: number, text?: string): Record<string, unknown> {
  return { status: "ERROR", status_code: code, status_text: text ?? SMSRU_CODES[code]?.text ?? "error" };
}

function numberError(code: number): Record<string, unknown> {
  return { status: "ERROR", status_code: code, status_text: SMSRU_CODES[code]?.text ?? "error" };
}
