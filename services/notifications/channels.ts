import { DeliveryError, type DeliveryReceipt } from "../../lib/ports/delivery";
import type { MailSender } from "../../lib/ports/mail/mail.port";
import type { PushSender } from "../../lib/ports/push/push.port";
import type { SmsSender } from "../../lib/ports/sms/sms.port";
import type { UserProfile } from "../../lib/domain/notifications";
import type { NotificationData, Renderer } from "./notification-data";
import type { NotificationRequest } from "./notifications.types";

/** The senders of every channel and the renderer: the runtime's in the service, fakes in unit tests. */
export interface ChannelPorts {
  mail: MailSender;
  sms: SmsSender;
  push: PushSender;
  render: Renderer;
  /** MAIL_FROM's domain: it ends every Message-ID. */
  mailDomain: string;
  /** Releases what rendering holds (its threads); called when the service stops. */
  close?(): Promise<void>;
}

/** The domain of `Tickets <tickets@example.com>` or of a bare address. */
export function mailDomainOf(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return address.slice(address.lastIndexOf("@") + 1);
}

/**
 * The same for every attempt of one notification, so a repeat after a crash carries the
 * Message-ID of the first and mail clients fold the two.
 */
export function messageIdOf(notificationId: string, domain: string): string {
  return `<${notificationId}@${domain}>`;
}

/** Renders the message and hands it to its channel's sender; the sender's DeliveryError passes through. */
export async function sendOn(
  ports: ChannelPorts,
  request: NotificationRequest,
  data: NotificationData,
  profile: UserProfile | null,
): Promise<DeliveryReceipt> {
  if (request.channel === "none") throw new DeliveryError("no channel to send on", "permanent");
  const message = await ports.render(data, request.channel);
  switch (request.channel) {
    case "email":
      return ports.mail.send({
        messageId: messageIdOf(request.id, ports.mailDomain),
        to: request.recipient,
        subject: message.subject,
        text: message.text,
        html: message.html,
        attachments: message.attachments,
      });
    case "sms":
      return ports.sms.send({ id: request.id, to: request.recipient, text: message.sms });
    case "push": {
      const device = profile?.devices.find((d) => d.id === request.recipient);
      if (!device) throw new DeliveryError("the device is no longer registered", "gone");
      return ports.push.send(device.target, {
        id: request.id,
        title: message.push.title,
        body: message.push.body,
        data: { kind: request.kind, orderId: request.orderId, url: data.order.url },
      });
    }
  }
}
