import type { Transporter } from "nodemailer";
import type { DeliveryReceipt } from "../delivery";
import { CONTENT_POLICY, mailOptions, nodemailer } from "./mail.compose";
import type { MailMessage, MailSender } from "./mail.port";
import { smtpDeliveryError } from "./smtp.errors";

export interface SmtpSenderOptions {
  /** smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), with user:password@ when the server asks. */
  url: string;
  /** The From header of every message. */
  from: string;
  /** Connecting, the greeting and each reply: past this the message is a transient failure. */
  timeoutMs: number;
  /**
   * Connections kept open and shared: a flash sale's receipts reuse them instead of opening
   * one each (a handshake, maybe TLS and AUTH, per message). Default 3.
   */
  maxConnections?: number;
  /** Called when the pool reports trouble outside a send (already redacted); the send's own failure is thrown. */
  onWarning?: (message: string) => void;
}

/** E-mail over SMTP through a pool of nodemailer connections. */
export class SmtpMailSender implements MailSender {
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly secrets: string[];

  constructor(options: SmtpSenderOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "smtp:" && url.protocol !== "smtps:") throw new Error("SmtpMailSender: url must be smtp:// or smtps://");
    // Error messages may echo what we sent at AUTH; these are cut out of every message.
    this.secrets = [decodeURIComponent(url.username), decodeURIComponent(url.password)].filter((s) => s.length > 2);
    this.from = options.from;
    this.transport = nodemailer().createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections ?? 3,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
      ...CONTENT_POLICY,
    });
    // Without a listener an 'error' event would end the process.
    this.transport.on("error", (err: unknown) => options.onWarning?.(smtpDeliveryError(err, this.secrets).message));
  }

  async send(message: MailMessage): Promise<DeliveryReceipt> {
    try {
      const info = await this.transport.sendMail(mailOptions(message, this.from));
      return queueId(info.response);
    } catch (err) {
      throw smtpDeliveryError(err, this.secrets);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The server's id of the message from its "250 ... queued as <id>" reply, for support. */
function queueId(response: unknown): DeliveryReceipt {
  const match = typeof response === "string" ? /queued as\s+<?([^\s>]+)>?/i.exec(response) : null;
  return match ? { providerId: match[1] } : {};
}
