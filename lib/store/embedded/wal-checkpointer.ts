import { extname, join } from "node:path";
import { Worker } from "node:worker_threads";

export interface WalCheckpointerOptions {
  file: string;
  fsync: boolean;
  intervalMs?: number;
  /** Called if the thread fails: the database then checkpoints on its own again. */
  onFailure(message: string): void;
}

/**
 * Checkpoints the write-ahead log from a worker thread with its own connection, so the
 * connection serving requests rarely has to, and then only what is left. SQLite is made for
 * this: a passive checkpoint runs beside the writer without blocking it.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped = false;
  private readonly exited: Promise<void>;

  constructor(options: WalCheckpointerOptions) {
    this.worker = new Worker(join(__dirname, `wal-checkpoint.worker${extname(__filename)}`), {
      workerData: { file: options.file, fsync: options.fsync, intervalMs: options.intervalMs ?? 250 },
      // From the sources (the quick start under tsx, the tests) the worker is TypeScript too.
      execArgv: extname(__filename) === ".ts" ? ["--import", "tsx"] : [],
    });
    this.worker.unref();
    this.worker.on("message", (message: { error?: string }) => {
      if (message.error) options.onFailure(`write-ahead log checkpoint failed: ${message.error}`);
    });
    this.worker.on("error", (err) => options.onFailure(`write-ahead log checkpointer failed: ${err.message}`));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        if (!this.stopped) options.onFailure(`write-ahead log checkpointer exited (${code})`);
        resolve();
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Unreferenced, the thread would not keep the process alive until it has closed its connection.
    this.worker.ref();
    this.worker.postMessage("stop");
    await this.exited;
  }
}
