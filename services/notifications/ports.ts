import type { Runtime } from "../../lib/app/runtime";
import { mailDomainOf, type ChannelPorts } from "./channels";
import { pdfThreads } from "./pdf-threads";
import { renderer } from "./templates/render";

/** The runtime's senders and the templates (their PDFs on render threads): what the service sends with. */
export function channelPorts(rt: Runtime): ChannelPorts {
  // The runtime makes them in every process that runs this service.
  const { mail, sms, push } = rt.notify!;
  const pdfs = pdfThreads(rt.config.notifications.renderThreads);
  return {
    mail,
    sms,
    push,
    render: renderer(pdfs.make),
    mailDomain: mailDomainOf(rt.config.notifications.mail.from),
    close: () => pdfs.close(),
  };
}
