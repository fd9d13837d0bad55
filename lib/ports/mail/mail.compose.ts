import type { SendMailOptions } from "nodemailer";
import { DeliveryError } from "../delivery";
import type { MailMessage } from "./mail.port";

/**
 * nodemailer, loaded when the first transport is made: it takes a few hundred ms to load, and
 * the quick start makes its composer only at the first e-mail.
 */
export const nodemailer = () => require("nodemailer") as typeof import("nodemailer");

/** `<local@domain>` with no spaces or brackets inside: what RFC 5322 calls a msg-id. */
const MESSAGE_ID = /^<?([^\s<>@]+@[^\s<>@]+)>?$/;

/** The Message-ID without its angle brackets; a malformed one is our bug, never worth a retry. */
export function messageIdCore(messageId: string): string {
  const match = MESSAGE_ID.exec(messageId);
  if (!match) throw new DeliveryError("mail: the Message-ID is not <local@domain>", "permanent");
  return match[1]!;
}

/**
 * What both senders hand nodemailer: the same composer builds the SMTP message and the .eml
 * file, so the quick start's files show exactly what a real server would have received.
 */
export function mailOptions(message: MailMessage, from: string): SendMailOptions {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${messageIdCore(message.messageId)}>`,
    attachments: (message.attachments ?? []).map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    })),
  };
}

/**
 * Transport options both senders share: our attachments are buffers, so a path or URL in a
 * message must never make the process read a file or fetch anything.
 */
export const CONTENT_POLICY = { disableFileAccess: true, disableUrlAccess: true } as const;
