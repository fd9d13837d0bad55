/** Broadcast when a log got new commits; consumers on other nodes look at once instead of at their next poll. */
export const APPENDED_EVENT = "log.appended";

export interface AppendedPayload {
  log: string;
  pos: number;
}

interface Broker {
  readonly transit?: unknown;
  broadcast(event: string, payload: AppendedPayload): Promise<unknown>;
}

/**
 * Tells the consumers of a log that something was appended. This node's runners are woken at
 * once, directly. Other nodes hear of it by one broadcast per log per turn of the event loop
 * (the highest position), not one per append; with no other nodes (the quick start) nothing
 * is broadcast at all. A lost wake-up costs a consumer one poll interval, never a commit: they
 * pull from the log.
 */
export class LogAnnouncer {
  private pending = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly broker: Broker,
    private readonly runners: { wake(log: string): void },
  ) {}

  appended(log: string, pos: number): void {
    this.runners.wake(log);
    if (!this.broker.transit) return;
    if (pos > (this.pending.get(log) ?? 0)) this.pending.set(log, pos);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    for (const [log, pos] of pending) this.broker.broadcast(APPENDED_EVENT, { log, pos }).catch(() => undefined);
  }
}

const announcers = new WeakMap<object, LogAnnouncer>();

/** The announcer of a broker (one per process and broker, shared by every service on it). */
export function announcerOf(broker: Broker, runners: { wake(log: string): void }): LogAnnouncer {
  let announcer = announcers.get(broker);
  if (!announcer) announcers.set(broker, (announcer = new LogAnnouncer(broker, runners)));
  return announcer;
}
