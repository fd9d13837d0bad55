import type { Runtime } from "../../lib/app/runtime";
import { mailDomainOf, type ChannelPorts } from "./channels";
import { pdfThreads } from "./pdf-threads";
import { renderer } from "./templates/render";

/** The runtime's senders and the templates (their PDFs on render threads): what the service sends with. */
export function channelPorts(rt: Runtime): ChannelPorts {
  const pdfs = pdfThreads(rt.config.notifications.renderThreads);
  return {
    mail: rt.mail,
    sms: rt.sms,
    push: rt.push,
    render: renderer(pdfs.make),
    mailDomain: mailDomainOf(rt.config.notifications.mail.from),
    close: () => pdfs.close(),
  };
}
