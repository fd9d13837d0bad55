import { redact } from "../http";
import { DeliveryError } from "../delivery";

/** What nodemailer puts on its errors (see nodemailer's errors.d.ts). */
interface SmtpFailure {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
}

/**
 * Steps of the session that concern the server or our account, not this message: a 5xx there
 * (a "554 no service" greeting, a refused login) would refuse every message alike, so the
 * message waits for an operator instead of being given up.
 */
const SESSION_COMMANDS = /^(CONN|GREETING|EHLO|HELO|LHLO|STARTTLS|AUTH)/i;

/** Errors nodemailer raises before any reply that concerns the message: the network or the server. */
const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ETLS",
  "EPROTOCOL",
  "EAUTH",
  "ENOAUTH",
  "EMAXLIMIT",
  "EPROXY",
]);

/** Mail that can never go out as composed (no valid recipient, a bad header): retrying repeats the failure. */
const MESSAGE_CODES = new Set(["EENVELOPE", "EMESSAGE", "EMAXRECIPIENTS", "EFILEACCESS", "EURLACCESS"]);

const ADDRESS = /[^\s<>"'()@,;:]+@[^\s<>"'()@,;:]+/g;

/** The text with every e-mail address replaced: errors end up in logs, addresses must not. */
export function hideAddresses(text: string): string {
  return text.replace(ADDRESS, "<address>");
}

/**
 * Sorts a nodemailer failure: an SMTP 4xx reply and every connection trouble → `transient`;
 * a 5xx reply to the message's own commands (MAIL FROM, RCPT TO, DATA) → `permanent`.
 * The message keeps the reply code and text, with credentials and addresses taken out (a
 * server's "550 <bob@example.com>: no such user" must not put Bob in our logs).
 */
export function smtpDeliveryError(err: unknown, secrets: ReadonlyArray<string | undefined>): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const failure: SmtpFailure = typeof err === "object" && err !== null ? (err as SmtpFailure) : {};
  const code = typeof failure.code === "string" ? failure.code : undefined;
  const reply = typeof failure.responseCode === "number" ? failure.responseCode : undefined;
  const command = typeof failure.command === "string" ? failure.command : "";
  const text = hideAddresses(redact(String(failure.message ?? err), secrets));
  const step = command ? ` at ${command}` : "";
  return new DeliveryError(`smtp ${code ?? "error"}${step}: ${text}`, kindOf(code, reply, command));
}

function kindOf(code: string | undefined, reply: number | undefined, command: string): "transient" | "permanent" {
  if (reply !== undefined && reply >= 400 && reply < 500) return "transient";
  if (reply !== undefined && reply >= 500 && reply < 600) return SESSION_COMMANDS.test(command) ? "transient" : "permanent";
  if (code && CONNECTION_CODES.has(code)) return "transient";
  if (code && MESSAGE_CODES.has(code)) return "permanent";
  // Unknown trouble (a system error code, a bug in a dependency): retried, and after the last
  // attempt the notification is failed and visible anyway.
  return "transient";
}
