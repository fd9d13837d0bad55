import type { DeliveryReceipt } from "../delivery";

export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export interface MailMessage {
  /**
   * Deterministic, so a repeat after a crash carries the same Message-ID and mail clients fold
   * it: `<notification-id@domain-of-MAIL_FROM>`.
   */
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: MailAttachment[];
}

/**
 * Sends one e-mail. Throws DeliveryError: `transient` for 4xx replies and connection
 * trouble, `permanent` for 5xx replies (a refused address).
 */
export interface MailSender {
  send(message: MailMessage): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}
