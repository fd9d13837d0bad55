/**
 * Contract test of the e-mail port against a real SMTP server (Mailpit): what arrives, and how
 * failures are sorted into "try again later" and "give up". Also the quick start's .eml files.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { createTransport } from "nodemailer";
import { DeliveryError } from "../../../lib/ports/delivery";
import { EmlFileMailSender, emlFileName } from "../../../lib/ports/mail/eml-file.sender";
import { createMailSender } from "../../../lib/ports/mail/mail.factory";
import type { MailMessage, MailSender } from "../../../lib/ports/mail/mail.port";
import { SmtpMailSender } from "../../../lib/ports/mail/smtp.sender";
import { freePort } from "../../support/free-port";
import { ownMailpit, sharedMailpit, uniqueRecipient, type OwnMailpit } from "../../support/mailpit";

jest.setTimeout(120_000);

const FROM = "Билеты Онлайн <tickets@tickets.test>";
const shared = sharedMailpit();
const senders: MailSender[] = [];

function smtpSender(url: string, timeoutMs = 10_000): SmtpMailSender {
  const sender = new SmtpMailSender({ url, from: FROM, timeoutMs });
  senders.push(sender);
  return sender;
}

function message(to: string, overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    messageId: `<n-${randomBytes(8).toString("hex")}@tickets.test>`,
    to,
    subject: "Ваш заказ №42 оплачен — билеты внутри",
    text: "Здравствуйте! Заказ №42 оплачен.",
    html: "<p>Здравствуйте! Заказ <b>№42</b> оплачен.</p>",
    ...overrides,
  };
}

/** Some bytes of every value, behind a PDF header: any re-encoding on the way would show. */
function pdfBytes(): Buffer {
  return Buffer.concat([
    Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1"),
    randomBytes(64 * 1024),
    Buffer.from("\n%%EOF\n"),
  ]);
}

/** The Subject header of a message, its encoded words (RFC 2047, B or Q) decoded. */
function subjectOf(eml: string): string {
  const header = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(eml)?.[1] ?? "";
  return header
    .replace(/\r?\n[ \t]/g, " ")
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            "latin1",
          ).toString("utf8"),
    )
    .trim();
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
});

describe("SMTP sender against Mailpit", () => {
  it("delivers HTML, text and a PDF attachment with our Message-ID, From and a Cyrillic subject", async () => {
    const to = uniqueRecipient("receipt");
    const pdf = pdfBytes();
    const sent = message(to, {
      attachments: [{ filename: "билеты-заказ-42.pdf", content: pdf, contentType: "application/pdf" }],
    });
    const receipt = await smtpSender(shared.smtpUrl).send(sent);
    expect(receipt.providerId).toBeTruthy();

    const [summary] = await shared.client.waitForMessagesTo(to, 1);
    const got = await shared.client.message(summary!.ID);
    expect(`<${got.MessageID}>`).toBe(sent.messageId);
    expect(got.From).toEqual({ Name: "Билеты Онлайн", Address: "tickets@tickets.test" });
    expect(got.To).toEqual([{ Name: "", Address: to }]);
    expect(got.Subject).toBe(sent.subject);
    expect(got.Text.trim()).toBe(sent.text);
    expect(got.HTML).toContain("Заказ <b>№42</b> оплачен");
    expect(got.Attachments).toHaveLength(1);
    expect(got.Attachments[0]).toMatchObject({ FileName: "билеты-заказ-42.pdf", ContentType: "application/pdf" });
    const bytes = await shared.client.attachment(got.ID, got.Attachments[0]!.PartID);
    expect(sha256(bytes)).toBe(sha256(pdf));
  });

  it("sends a burst over its pool: every message arrives once", async () => {
    const to = uniqueRecipient("burst");
    const sender = smtpSender(shared.smtpUrl);
    const sent = Array.from({ length: 12 }, () => message(to));
    await Promise.all(sent.map((m) => sender.send(m)));
    const arrived = await shared.client.waitForMessagesTo(to, sent.length);
    expect(arrived.map((m) => `<${m.MessageID}>`).sort()).toEqual(sent.map((m) => m.messageId).sort());
  });

  it("logs in when the URL has credentials, and never shows them", async () => {
    const to = uniqueRecipient("login");
    const password = "pw-" + randomBytes(6).toString("hex");
    const url = new URL(shared.smtpUrl);
    url.username = "tickets";
    url.password = password;
    const lines: string[] = [];
    const sender = createMailSender(
      { notifications: { mail: { smtpUrl: url.toString(), from: FROM, dir: "/nonexistent", timeoutMs: 10_000 } } },
      { info: (m) => lines.push(m), warn: (m) => lines.push(m) },
    );
    senders.push(sender);
    await sender.send(message(to));
    await shared.client.waitForMessagesTo(to, 1);
    expect(lines.join("\n")).toContain(`SMTP via smtp://${url.host} (with login)`);
    expect(lines.join("\n")).not.toContain(password);
  });

  it("refuses a malformed Message-ID for good, sending nothing", async () => {
    const to = uniqueRecipient("bad-id");
    const error = await failure(smtpSender(shared.smtpUrl).send(message(to, { messageId: "no brackets or at" })));
    expect(error.kind).toBe("permanent");
    expect(await shared.client.messagesTo(to)).toEqual([]);
  });
});

describe("SMTP failures (a Mailpit of the test's own: chaos is server-wide)", () => {
  let own: OwnMailpit;

  beforeAll(async () => {
    own = await ownMailpit();
  });
  afterEach(async () => {
    await own.start().catch(() => undefined); // a test may have stopped it
    await own.client.resetChaos();
  });
  afterAll(async () => {
    await own.destroy();
  });

  it("a 4xx reply to RCPT TO is transient; once the server takes mail again the same sender delivers", async () => {
    const to = uniqueRecipient("greylisted");
    const sender = smtpSender(own.smtpUrl);
    await own.client.setChaos({ Recipient: { ErrorCode: 451, Probability: 100 } });
    const error = await failure(sender.send(message(to)));
    expect(error.kind).toBe("transient");
    expect(error.message).toContain("451");
    expect(error.message).not.toContain(to);

    await own.client.resetChaos();
    await sender.send(message(to));
    expect(await own.client.waitForMessagesTo(to, 1)).toHaveLength(1);
  });

  it("a 5xx reply to RCPT TO (address refused) is permanent and names no address", async () => {
    const to = uniqueRecipient("refused");
    await own.client.setChaos({ Recipient: { ErrorCode: 550, Probability: 100 } });
    const error = await failure(smtpSender(own.smtpUrl).send(message(to)));
    expect(error.kind).toBe("permanent");
    expect(error.message).toContain("550");
    expect(inspect(error, { depth: 5 })).not.toContain(to);
  });

  it("a 4xx reply to MAIL FROM is transient", async () => {
    await own.client.setChaos({ Sender: { ErrorCode: 421, Probability: 100 } });
    const error = await failure(smtpSender(own.smtpUrl).send(message(uniqueRecipient("sender-busy"))));
    expect(error.kind).toBe("transient");
  });

  it("a refused login (5xx to AUTH) waits for an operator instead of failing the message, and hides the password", async () => {
    const password = "secret-" + randomBytes(6).toString("hex");
    const url = new URL(own.smtpUrl);
    url.username = "tickets";
    url.password = password;
    await own.client.setChaos({ Authentication: { ErrorCode: 535, Probability: 100 } });
    const error = await failure(smtpSender(url.toString()).send(message(uniqueRecipient("auth"))));
    expect(error.kind).toBe("transient");
    expect(error.message).toContain("535");
    expect(error.message).not.toContain(password);
  });

  it("the server down is transient, and the pool reconnects when it is back", async () => {
    const to = uniqueRecipient("outage");
    const sender = smtpSender(own.smtpUrl, 3000);
    await sender.send(message(to));
    await own.stop();
    const error = await failure(sender.send(message(to)));
    expect(error.kind).toBe("transient");

    await own.start();
    await sender.send(message(to));
    expect(await own.client.waitForMessagesTo(to, 2)).toHaveLength(2);
  });

  it("a closed port is transient", async () => {
    const port = await freePort();
    const error = await failure(smtpSender(`smtp://127.0.0.1:${port}`, 3000).send(message(uniqueRecipient("closed"))));
    expect(error.kind).toBe("transient");
  });

  it("a server that accepts but never greets is transient after the timeout", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const error = await failure(smtpSender(`smtp://127.0.0.1:${port}`, 500).send(message(uniqueRecipient("silent"))));
      expect(error.kind).toBe("transient");
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe(".eml files (no SMTP_URL)", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "eml-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes one RFC 5322 file per Message-ID that a real server reads back whole", async () => {
    const to = uniqueRecipient("eml");
    const pdf = pdfBytes();
    const sent = message(to, { attachments: [{ filename: "билет.pdf", content: pdf, contentType: "application/pdf" }] });
    const sender = new EmlFileMailSender({ dir, from: FROM });
    senders.push(sender);
    const receipt = await sender.send(sent);

    expect(readdirSync(dir)).toEqual([emlFileName(sent.messageId)]);
    expect(receipt.providerId).toBe(emlFileName(sent.messageId));
    const raw = readFileSync(join(dir, emlFileName(sent.messageId)));
    expect(raw.toString("latin1")).toMatch(/^Message-ID: <n-[0-9a-f]+@tickets\.test>\r$/m);

    // Mailpit parses what the file holds, as any mail client would open it.
    const relay = createTransport({ url: shared.smtpUrl });
    try {
      await relay.sendMail({ envelope: { from: "tickets@tickets.test", to: [to] }, raw });
    } finally {
      relay.close();
    }
    const [summary] = await shared.client.waitForMessagesTo(to, 1);
    const got = await shared.client.message(summary!.ID);
    expect(`<${got.MessageID}>`).toBe(sent.messageId);
    expect(got.Subject).toBe(sent.subject);
    expect(got.From?.Name).toBe("Билеты Онлайн");
    expect(got.Text.trim()).toBe(sent.text);
    expect(got.HTML).toContain("<b>№42</b>");
    expect(sha256(await shared.client.attachment(got.ID, got.Attachments[0]!.PartID))).toBe(sha256(pdf));
  });

  it("a repeat replaces its file instead of adding a second one, and leaves no temporary file", async () => {
    const sender = new EmlFileMailSender({ dir: join(dir, "mail"), from: FROM });
    senders.push(sender);
    const first = message("buyer@example.com");
    await sender.send(first);
    await sender.send({ ...first, subject: "Повтор" });
    await sender.send(message("buyer@example.com"));

    const files = readdirSync(join(dir, "mail")).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith(".eml"))).toBe(true);
    const repeated = readFileSync(join(dir, "mail", emlFileName(first.messageId)), "utf8");
    expect(subjectOf(repeated)).toBe("Повтор");
  });

  it("a folder it cannot write is transient (an operator may fix it), and the message names no address", async () => {
    writeFileSync(join(dir, "not-a-folder"), "");
    const sender = new EmlFileMailSender({ dir: join(dir, "not-a-folder", "mail"), from: FROM });
    senders.push(sender);
    const error = await failure(sender.send(message("buyer@example.com")));
    expect(error.kind).toBe("transient");
    expect(error.message).toContain("ENOTDIR");
    expect(inspect(error, { depth: 5 })).not.toContain("buyer@example.com");
  });

  it("names files safely whatever the Message-ID holds, one file per id", () => {
    expect(emlFileName("<receipt.o-1@tickets.test>")).toBe("receipt.o-1@tickets.test.eml");
    const odd = emlFileName("<a/b..\\c@x>");
    expect(odd).toMatch(/^[A-Za-z0-9._@+=-]+\.eml$/);
    expect(odd.startsWith(".")).toBe(false);
    expect(emlFileName("<a/b@x>")).not.toBe(emlFileName("<a_b@x>"));
  });
});
