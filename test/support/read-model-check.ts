import { isDeepStrictEqual } from "node:util";
import { CHECKPOINTS, type CheckpointDoc } from "../../lib/eventlog/checkpoints";
import { checkpointName, generationCollection, projectInto, type Projection, type ReadDoc } from "../../lib/eventlog/projection";
import { PROJECTIONS, type ProjectionMeta } from "../../lib/eventlog/projection-host";
import type { Commit, EventLog } from "../../lib/eventlog/types";
import type { Store } from "../../lib/store/types";

/** The runners' default batch size: the rebuild applies the log as a runner from zero would. */
const BATCH = 500;

/** The whole log, in position order; a hole in the positions is a finding, never skipped. */
export async function readWholeLog(log: EventLog): Promise<Commit[]> {
  const head = await log.head();
  const commits: Commit[] = [];
  while (commits.length < head) {
    const batch = await log.readFrom(commits.length, BATCH);
    if (batch.length === 0) break;
    for (const commit of batch) {
      if (commit.pos !== commits.length + 1)
        throw new Error(`log ${log.name}: position ${commits.length + 1} is missing (found ${commit.pos}; head ${head})`);
      commits.push(commit);
    }
  }
  if (commits.length !== head) throw new Error(`log ${log.name}: head is ${head} but only ${commits.length} commits were read`);
  return commits;
}

/** Where the live generation of a read model stands: its collection and its runner's checkpoint. */
export async function liveGeneration(
  store: Store,
  projection: Projection,
): Promise<{ generation: number; collection: string; checkpoint: number | null }> {
  const meta = await store.collection<ProjectionMeta>(PROJECTIONS).get(projection.name);
  const generation = meta?.generation ?? 1;
  const checkpoint = await store.collection<CheckpointDoc>(CHECKPOINTS).get(checkpointName(projection, generation));
  return { generation, collection: generationCollection(projection, generation), checkpoint: checkpoint?.pos ?? null };
}

/**
 * Documents as the store gives them back after a restart: a JSON document store keeps no
 * `undefined` fields, and the rebuilt documents were never written to disk and read back.
 */
const asStored = (docs: ReadDoc[]) =>
  new Map(docs.map((d) => [d._id, JSON.parse(JSON.stringify(d)) as ReadDoc] as const).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Compares the live generation of a read model, document by document and whole, with the log
 * applied from zero into an empty collection of the same store. Returns null when they are
 * equal, else what differs, starting with the first differing document.
 */
export async function differenceFromRebuild(store: Store, projection: Projection, commits: Commit[]): Promise<string | null> {
  const live = await liveGeneration(store, projection);
  const head = commits.length ? commits[commits.length - 1].pos : 0;
  if (live.checkpoint !== head)
    return `${projection.name}: the live generation (${live.collection}) is at ${live.checkpoint}, its log ${projection.log} at ${head}`;
  const liveDocs = asStored(await store.collection<ReadDoc>(live.collection).find({}));

  const scratchName = `rebuild_check_${projection.collection}`;
  await store.collection(scratchName).drop();
  const scratch = store.collection<ReadDoc>(scratchName);
  for (const index of projection.indexes ?? []) await scratch.ensureIndex(index);
  for (let i = 0; i < commits.length; i += BATCH) await projectInto(projection, store, scratchName, commits.slice(i, i + BATCH));
  const rebuilt = asStored(await scratch.find({}));
  await scratch.drop();

  const ids = [...new Set([...liveDocs.keys(), ...rebuilt.keys()])].sort();
  const differing = ids.filter((id) => !isDeepStrictEqual(liveDocs.get(id), rebuilt.get(id)));
  if (differing.length === 0) return null;
  const first = differing[0];
  return (
    `${projection.name}: ${differing.length} of ${ids.length} documents differ from a rebuild of ${commits.length} commits ` +
    `(live ${liveDocs.size}, rebuilt ${rebuilt.size}); the first, ${first}:\n` +
    `  live:    ${JSON.stringify(liveDocs.get(first) ?? null)}\n  rebuilt: ${JSON.stringify(rebuilt.get(first) ?? null)}`
  );
}
