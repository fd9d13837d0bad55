import type { NotificationsConfig } from "../../config/notifications";
import { startSmsSimulator, type SmsSimulator } from "./sms.simulator";
import type { SmsSender } from "./sms.port";
import { SmsRuClient } from "./smsru.client";

export interface SmsPort {
  sender: SmsSender;
  /** The in-process simulator when SMS_PROVIDER=simulator (tests and the REPL read what it "sent"). */
  simulator: SmsSimulator | null;
}

/** The SMS.ru client, against SMS.ru (or SMSRU_URL) or against a simulator started here on a free port. */
export async function createSmsPort(
  config: NotificationsConfig["sms"],
  log: { info(message: string): void },
  closers: Array<() => Promise<void>>,
): Promise<SmsPort> {
  const { provider, apiId, url, sender, timeoutMs } = config;
  if (provider === "smsru") {
    const client = new SmsRuClient({ apiId: apiId!, baseUrl: url, sender, timeoutMs });
    closers.push(() => client.close());
    return { sender: client, simulator: null };
  }
  const simulatorKey = "simulator";
  const simulator = await startSmsSimulator({ apiId: simulatorKey });
  closers.push(() => simulator.close());
  log.info(`sms: built-in SMS.ru simulator at ${simulator.url}`);
  const client = new SmsRuClient({ apiId: simulatorKey, baseUrl: simulator.url, sender, timeoutMs });
  return { sender: client, simulator };
}
