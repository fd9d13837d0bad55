/**
 * The bench's load generators run on a thread of their own, so the buyers do not share an
 * event loop with the service they measure. Both halves of that thread's one protocol: the
 * worker may report progress (a phase's name) and ends with its result.
 */
import { join } from "node:path";
import { parentPort, Worker, workerData } from "node:worker_threads";

type Message<T> = { progress: string } | { result: T };

/** Runs a bench worker (bench/<file>) and resolves with its result; `onProgress` hears its phases. */
export async function runWorker<T>(file: string, data: unknown, onProgress?: (phase: string) => void): Promise<T> {
  const worker = new Worker(join(__dirname, "..", file), { workerData: data, execArgv: ["--import", "tsx"] });
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.on("message", (message: Message<T>) => {
        if ("result" in message) resolve(message.result);
        else onProgress?.(message.progress);
      });
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** The worker's side: runs `run` on the data it was given and posts its result (a failure ends the thread with it). */
export function workerMain<D, R>(run: (data: D, progress: (phase: string) => void) => Promise<R>): void {
  const post = (message: Message<R>) => parentPort!.postMessage(message);
  run(workerData as D, (phase) => post({ progress: phase })).then(
    (result) => post({ result }),
    (err: Error) => {
      throw err;
    },
  );
}
