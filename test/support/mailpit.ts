/**
 * Mailpit, the real SMTP server of the tests: a client of its HTTP API (what arrived, the
 * attachments' bytes, chaos triggers) and a Mailpit of a test's own.
 *
 * Every test shares the Mailpit scripts/infra/up.sh starts: a test sends to recipients of its
 * own (`uniqueRecipient`) and reads only theirs; nobody deletes messages. Chaos triggers are
 * server-wide, so a test that sets them, or that needs the SMTP server to go down, starts
 * `ownMailpit()` (same binary, free ports, a temporary database).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";
import { loadInfra } from "./infra";
import { ownProcess } from "./own-process";
import { waitFor } from "./wait";

export interface MailpitAddress {
  Name: string;
  Address: string;
}

/** One row of a listing or search. */
export interface MailpitSummary {
  ID: string;
  MessageID: string;
  From: MailpitAddress | null;
  To: MailpitAddress[] | null;
  Subject: string;
  Created: string;
  Size: number;
  Attachments: number;
  Snippet: string;
}

export interface MailpitAttachment {
  PartID: string;
  FileName: string;
  ContentType: string;
  Size: number;
}

/** A whole message as Mailpit parsed it. */
export interface MailpitMessage {
  ID: string;
  MessageID: string;
  From: MailpitAddress | null;
  To: MailpitAddress[] | null;
  Subject: string;
  Date: string;
  Text: string;
  HTML: string;
  Size: number;
  Attachments: MailpitAttachment[];
  Inline: MailpitAttachment[];
}

/** An SMTP error reply (400..599) given with a probability (0..100, percent). */
export interface ChaosTrigger {
  ErrorCode: number;
  Probability: number;
}

/** Sender: the reply to MAIL FROM; Recipient: to RCPT TO; Authentication: to AUTH. */
export interface ChaosTriggers {
  Sender: ChaosTrigger;
  Recipient: ChaosTrigger;
  Authentication: ChaosTrigger;
}

/** A recipient no other test uses: how a test finds its own messages in the shared Mailpit. */
export function uniqueRecipient(label = "test"): string {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 30);
  return `${safe}-${randomUUID().slice(0, 13)}@mail.test`;
}

export class MailpitClient {
  readonly apiUrl: string;

  constructor(apiUrl: string) {
    this.apiUrl = apiUrl.replace(/\/+$/, "");
  }

  /** Mailpit's search syntax (`to:`, `subject:`, `message-id:`...), newest first. */
  async search(query: string, limit = 1000): Promise<MailpitSummary[]> {
    const body = (await this.json(`/api/v1/search?query=${encodeURIComponent(query)}&limit=${limit}`)) as {
      messages: MailpitSummary[] | null;
    };
    return body.messages ?? [];
  }

  /** A page of every message, newest first, and how many there are in all. */
  async list(start = 0, limit = 1000): Promise<{ total: number; messages: MailpitSummary[] }> {
    const body = (await this.json(`/api/v1/messages?start=${start}&limit=${limit}`)) as {
      total: number;
      messages: MailpitSummary[] | null;
    };
    return { total: body.total, messages: body.messages ?? [] };
  }

  /** Messages addressed to exactly this address (the search itself matches substrings). */
  async messagesTo(address: string): Promise<MailpitSummary[]> {
    const wanted = address.toLowerCase();
    const found = await this.search(`to:"${address}"`);
    return found.filter((m) => (m.To ?? []).some((to) => to.Address.toLowerCase() === wanted));
  }

  message(id: string): Promise<MailpitMessage> {
    return this.json(`/api/v1/message/${encodeURIComponent(id)}`) as Promise<MailpitMessage>;
  }

  /** The message's headers as Mailpit read them, e.g. `headers["Message-Id"]`. */
  headers(id: string): Promise<Record<string, string[]>> {
    return this.json(`/api/v1/message/${encodeURIComponent(id)}/headers`) as Promise<Record<string, string[]>>;
  }

  /** The message exactly as received over SMTP. */
  async raw(id: string): Promise<Buffer> {
    return this.bytes(`/api/v1/message/${encodeURIComponent(id)}/raw`);
  }

  /** An attachment's decoded bytes. */
  attachment(id: string, partId: string): Promise<Buffer> {
    return this.bytes(`/api/v1/message/${encodeURIComponent(id)}/part/${encodeURIComponent(partId)}`);
  }

  chaos(): Promise<ChaosTriggers> {
    return this.json("/api/v1/chaos") as Promise<ChaosTriggers>;
  }

  /**
   * Sets the chaos triggers; those left out go back to "never". Server-wide: only on a Mailpit
   * of the test's own (ownMailpit), never on the shared one.
   */
  async setChaos(triggers: Partial<ChaosTriggers>): Promise<ChaosTriggers> {
    return (await this.json("/api/v1/chaos", { method: "PUT", body: JSON.stringify(triggers) })) as ChaosTriggers;
  }

  resetChaos(): Promise<ChaosTriggers> {
    return this.setChaos({});
  }

  /** Waits until at least `count` messages to `address` have arrived; returns them, oldest first. */
  async waitForMessagesTo(address: string, count: number, options: { timeoutMs?: number } = {}): Promise<MailpitSummary[]> {
    const found = await waitFor(
      `${count} message(s) to ${address} in Mailpit`,
      () => this.messagesTo(address),
      (messages) => messages.length >= count,
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250, show: (m) => `${m.length} so far` },
    );
    return [...found].reverse();
  }

  private async json(path: string, init: RequestInit = {}): Promise<unknown> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      ...init,
      headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Mailpit ${init.method ?? "GET"} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }

  private async bytes(path: string): Promise<Buffer> {
    const res = await fetch(`${this.apiUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`Mailpit GET ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/** The shared Mailpit of scripts/infra/up.sh. */
export function sharedMailpit(): { smtpUrl: string; client: MailpitClient } {
  const infra = loadInfra(["mailpit"]);
  return { smtpUrl: infra.mailpitSmtpUrl, client: new MailpitClient(infra.mailpitApiUrl) };
}

export interface OwnMailpit {
  smtpUrl: string;
  apiUrl: string;
  /** The SMTP port: a test can point a sender at it while the server is stopped. */
  smtpPort: number;
  client: MailpitClient;
  /** Starts it (again) on the same ports and database, and waits until both sides answer. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: a crash, the default; SIGTERM: a clean stop); what arrived is kept. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
  logTail(lines?: number): string;
}

/** A Mailpit of the test's own, with chaos enabled: the shared one must stay up and well-behaved. */
export async function ownMailpit(options: { timeoutMs?: number } = {}): Promise<OwnMailpit> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const bin = loadInfra(["mailpit"]).mailpitBin;
  const dir = mkdtempSync(join(tmpdir(), "own-mailpit-"));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const smtpUrl = `smtp://127.0.0.1:${smtpPort}`;
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const client = new MailpitClient(apiUrl);
  async function answers(): Promise<boolean> {
    try {
      const res = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return false;
      await client.chaos();
      return true;
    } catch {
      return false;
    }
  }

  const server = ownProcess({
    name: "Mailpit",
    dir,
    command: bin,
    args: [
      ...["--smtp", `127.0.0.1:${smtpPort}`, "--listen", `127.0.0.1:${httpPort}`],
      ...["--database", join(dir, "mailpit.db"), "--max", "20000"],
      ...["--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-disable-rdns"],
      ...["--enable-chaos", "--disable-version-check", "--quiet"],
    ],
    answers,
    timeoutMs,
    pollMs: 100,
  });

  await server.start();
  return { smtpUrl, apiUrl, smtpPort, client, ...server };
}
