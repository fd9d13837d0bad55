import type { NotificationsConfig } from "../../config/notifications";
import { EmlFileMailSender } from "./eml-file.sender";
import type { MailSender } from "./mail.port";
import { SmtpMailSender } from "./smtp.sender";

interface MailLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** SMTP when SMTP_URL is set; otherwise (the quick start) .eml files under DATA_DIR/mail. */
export function createMailSender(config: { notifications: Pick<NotificationsConfig, "mail"> }, logger: MailLogger): MailSender {
  const { smtpUrl, from, dir, timeoutMs } = config.notifications.mail;
  if (!smtpUrl) {
    logger.info(`mail: no SMTP_URL, e-mails are written as .eml files under ${dir}`);
    return new EmlFileMailSender({ dir, from });
  }
  const url = new URL(smtpUrl);
  // Never the credentials: scheme, host and port tell an operator where mail goes.
  logger.info(`mail: SMTP via ${url.protocol}//${url.host}${url.username ? " (with login)" : ""}`);
  return new SmtpMailSender({ url: smtpUrl, from, timeoutMs, onWarning: (m) => logger.warn(`mail: ${m}`) });
}
