/** How nodemailer's failures are sorted into "retry later" and "give up" (smtp.errors.ts). */
import { DeliveryError } from "../../../lib/ports/delivery";
import { smtpDeliveryError } from "../../../lib/ports/mail/smtp.errors";

/** The shape nodemailer gives its errors: code, the reply's number and text, the failing command. */
function nodemailerError(code: string, command: string, response?: string): Error {
  const message = response ? `Failed: ${response}` : "Failed";
  const responseCode = response ? Number(/^\d{3}/.exec(response)?.[0]) : undefined;
  return Object.assign(new Error(message), { code, command, response, responseCode });
}

const kind = (err: unknown) => smtpDeliveryError(err, []).kind;

describe("smtpDeliveryError", () => {
  test.each([
    ["EENVELOPE", "RCPT TO", "450 4.2.0 mailbox busy"],
    ["EENVELOPE", "MAIL FROM", "421 4.7.0 try again later"],
    ["EMESSAGE", "DATA", "452 4.3.1 insufficient storage"],
  ])("a 4xx reply is transient (%s at %s)", (code, command, reply) => {
    expect(kind(nodemailerError(code, command, reply))).toBe("transient");
  });

  test.each([
    ["EENVELOPE", "RCPT TO", "550 5.1.1 no such user"],
    ["EENVELOPE", "MAIL FROM", "553 5.7.1 sender refused"],
    ["EMESSAGE", "DATA", "554 5.6.0 message refused"],
  ])("a 5xx reply to the message's own commands is permanent (%s at %s)", (code, command, reply) => {
    expect(kind(nodemailerError(code, command, reply))).toBe("permanent");
  });

  test.each([
    ["EPROTOCOL", "CONN", "554 no SMTP service here"],
    ["ECONNECTION", "EHLO", "521 server terminates connection"],
    ["EAUTH", "AUTH PLAIN", "535 5.7.8 bad credentials"],
    ["ETLS", "STARTTLS", "554 TLS not available"],
  ])("a 5xx reply to the session's own steps waits for an operator: transient (%s at %s)", (code, command, reply) => {
    expect(kind(nodemailerError(code, command, reply))).toBe("transient");
  });

  test.each(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ETLS"])(
    "connection trouble without a reply is transient (%s)",
    (code) => {
      expect(kind(nodemailerError(code, "CONN"))).toBe("transient");
    },
  );

  test("a message that cannot be sent as composed (no valid recipient) is permanent", () => {
    expect(kind(nodemailerError("EENVELOPE", "API"))).toBe("permanent");
  });

  test("an unknown failure is retried, and a DeliveryError passes through unchanged", () => {
    expect(kind(new TypeError("surprise"))).toBe("transient");
    const original = new DeliveryError("already sorted", "permanent");
    expect(smtpDeliveryError(original, [])).toBe(original);
  });

  test("the message keeps the reply but neither credentials nor addresses", () => {
    const err = nodemailerError("EENVELOPE", "RCPT TO", "550 5.1.1 <bob.smith@example.com>: no such user (login s3cr3t-pass)");
    const sorted = smtpDeliveryError(err, ["s3cr3t-pass"]);
    expect(sorted.message).toContain("550 5.1.1");
    expect(sorted.message).toContain("RCPT TO");
    expect(sorted.message).not.toContain("bob.smith");
    expect(sorted.message).not.toContain("s3cr3t-pass");
  });
});
