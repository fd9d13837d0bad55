/** One event's waiting room as its operators see it (waitingRoom.status, the REPL's `queue <eventId>`). */
export interface QueueStatus {
  eventId: string;
  opensAt: number | null;
  opened: boolean;
  length: number;
  preQueue: number;
  admitted: number;
  soldOut: boolean;
  /** As configured: admissions per second, or "auto". */
  rate: number | "auto" | null;
  /** Admissions per second now (the automatic rate's current value). */
  effectiveRate: number | null;
}
