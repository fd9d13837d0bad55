import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Transporter } from "nodemailer";
import { DeliveryError, type DeliveryReceipt } from "../delivery";
import { CONTENT_POLICY, mailOptions, messageIdCore, nodemailer } from "./mail.compose";
import { hideAddresses } from "./smtp.errors";
import type { MailMessage, MailSender } from "./mail.port";

export interface EmlFileSenderOptions {
  /** Where the .eml files go; made when missing. */
  dir: string;
  from: string;
}

/**
 * The quick start's "mailbox": every e-mail becomes an RFC 5322 file `<Message-ID>.eml` that
 * any mail client opens. Named after the Message-ID, so a repeat (after a crash) replaces the
 * file it already wrote instead of adding a second one.
 */
export class EmlFileMailSender implements MailSender {
  private readonly dir: string;
  private readonly from: string;
  private composer: Transporter | null = null;
  private ready: Promise<unknown> | null = null;

  constructor(options: EmlFileSenderOptions) {
    this.dir = options.dir;
    this.from = options.from;
  }

  /** Made at the first e-mail, so a start does not load nodemailer. */
  private compose(): Transporter {
    // nodemailer's own composer, CRLF line ends as RFC 5322 asks: the same bytes SMTP would carry.
    this.composer ??= nodemailer().createTransport({
      streamTransport: true,
      buffer: true,
      newline: "windows",
      ...CONTENT_POLICY,
    });
    return this.composer;
  }

  async send(message: MailMessage): Promise<DeliveryReceipt> {
    const id = messageIdCore(message.messageId);
    // No `cause` on these errors: the original's text may hold the recipient's address.
    const info = await this.compose()
      .sendMail(mailOptions(message, this.from))
      .catch((err: unknown) => {
        throw new DeliveryError(`mail: cannot compose the message: ${hideAddresses(String(err))}`, "permanent");
      });
    const name = emlFileName(id);
    try {
      this.ready ??= mkdir(this.dir, { recursive: true });
      await this.ready;
      await writeAtomically(join(this.dir, name), info.message as Buffer);
    } catch (err) {
      this.ready = null;
      // A full or read-only disk may be fixed by an operator: try again later.
      throw new DeliveryError(`mail: cannot write ${name}: ${(err as NodeJS.ErrnoException).code ?? "error"}`, "transient");
    }
    return { providerId: name };
  }

  async close(): Promise<void> {
    this.composer?.close();
  }
}

/**
 * `<id>.eml` when the Message-ID is made of file-safe characters (ours are), otherwise the
 * safe part plus a hash of the whole id, so two ids never share a file.
 */
export function emlFileName(messageId: string): string {
  const id = messageIdCore(messageId);
  const safe = id.replace(/[^A-Za-z0-9._@+=-]/g, "_").replace(/^\.+/, "_");
  if (safe === id && id.length <= 200) return `${id}.eml`;
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 16);
  return `${safe.slice(0, 100)}-${hash}.eml`;
}

/** A reader never sees half a file: write a temporary file, flush it, then rename it into place. */
async function writeAtomically(path: string, content: Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const file = await open(temp, "w");
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
