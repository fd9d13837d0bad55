/**
 * The tickets' PDFs on threads of their own. Laying out pages and embedding the font subset
 * is most of a receipt's CPU (bench:notifications); on the thread that also serves the API and
 * runs the log, a flash sale's receipts fell behind its payments. Piscina keeps the threads
 * warm and queues the work; NOTIFY_RENDER_THREADS=0 makes them in this thread instead.
 */
import { extname, join } from "node:path";
import Piscina from "piscina";
import type { NotificationData } from "./notification-data";
import { ticketsPdf } from "./ticket-pdf";
import type { PdfMaker } from "./templates/render";

export interface PdfThreads {
  make: PdfMaker;
  close(): Promise<void>;
}

export function pdfThreads(threads: number): PdfThreads {
  if (threads === 0) return { make: ticketsPdf, close: async () => undefined };
  let pool: Piscina | null = null;
  // Started on the first receipt: a process that never sends one spends no thread on it.
  const started = () =>
    (pool ??= new Piscina({
      filename: join(__dirname, `ticket-pdf.worker${extname(__filename)}`),
      // One kept warm; more while there is a queue, each kept a minute after its last PDF
      // (a thread starts in about a second: loading pdfkit and the fonts).
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000,
      // From the sources (the quick start under tsx, the tests) the worker is TypeScript too.
      execArgv: extname(__filename) === ".ts" ? ["--import", "tsx"] : [],
    }));
  return {
    async make(data: NotificationData) {
      // Structured cloning hands back the bytes as a Uint8Array.
      return Buffer.from((await started().run(data)) as Uint8Array);
    },
    async close() {
      await pool?.destroy();
      pool = null;
    },
  };
}
