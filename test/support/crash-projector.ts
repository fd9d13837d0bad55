/**
 * Child process for the crash test: projects the counter log and kills itself with SIGKILL
 * right after applying batch N, before that batch's checkpoint is written.
 * Usage: tsx test/support/crash-projector.ts <embedded|mongo> <location> <crashAfterBatch>
 */
import { Checkpoints } from "../../lib/eventlog/checkpoints";
import { checkpointName, generationCollection, projectInto } from "../../lib/eventlog/projection";
import { Runner } from "../../lib/eventlog/runner";
import type { StoreKind } from "../../lib/store/types";
import { counterProjection, silentLogger, type CounterDoc } from "./counter";
import { openTestStore } from "./stores";

async function main(): Promise<void> {
  const [kind, location, crashAfter] = process.argv.slice(2);
  const { store } = await openTestStore(kind as StoreKind, { location });
  const projection = counterProjection();
  const docs = store.collection<CounterDoc>(generationCollection(projection, 1));
  const batchSize = 25;
  const runner = new Runner({
    name: checkpointName(projection, 1),
    log: store.log(projection.log),
    checkpoints: new Checkpoints(store),
    owner: "doomed",
    logger: silentLogger,
    batchSize,
    pollMs: 50,
    leaseMs: 1000,
    handle: async (commits) => {
      // The documents written on their own (as MongoDB does), then death before the checkpoint.
      await projectInto(projection, store, docs.name, commits);
      // By position, not by count of calls: on a loaded machine a batch may lose its lease and be
      // applied again, and the kill must still come right after batch N, before its checkpoint.
      if (commits[commits.length - 1].pos >= Number(crashAfter) * batchSize) process.kill(process.pid, "SIGKILL");
    },
  });
  runner.start();
}

void main();
