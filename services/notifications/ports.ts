import type { Runtime } from "../../lib/app/runtime";
import { mailDomainOf, type ChannelPorts } from "./channels";
import { renderNotification } from "./templates/render";

/** The runtime's senders and the templates: what the service sends with. */
export function channelPorts(rt: Runtime): ChannelPorts {
  return {
    mail: rt.mail,
    sms: rt.sms,
    push: rt.push,
    render: renderNotification,
    mailDomain: mailDomainOf(rt.config.notifications.mail.from),
  };
}
