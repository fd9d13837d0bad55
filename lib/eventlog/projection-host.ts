import { DuplicateKeyError, type DocCollection, type Store } from "../store/types";
import { Checkpoints } from "./checkpoints";
import { applyBatch, checkpointName, generationCollection, type Projection, type ReadDoc } from "./projection";
import { Runner, type RunnerLogger, type RunnerOptions, type RunnerStatus } from "./runner";

export interface ProjectionMeta {
  _id: string;
  /** The generation queries read. */
  generation: number;
  /** A generation being built from position 0, switched to when it has caught up. */
  rebuilding: number | null;
  switchedAt: number;
  /** The projection's version that built the live generation (absent: 1). */
  version?: number;
}

export const PROJECTIONS = "projections";

export interface ProjectionStatus {
  projection: string;
  generation: number;
  collection: string;
  rebuilding: number | null;
  runners: Array<RunnerStatus & { generation: number }>;
}

export type RunnerTuning = Pick<RunnerOptions, "batchSize" | "pollMs" | "leaseMs" | "gapTimeoutMs" | "attempts" | "retryDelayMs">;

export interface ProjectionHostOptions {
  store: Store;
  projection: Projection;
  owner: string;
  logger: RunnerLogger;
  tuning?: RunnerTuning;
  /** Points this node's queries at a new generation; awaited before the old one is retired. */
  onSwitch?(collection: string): void | Promise<void>;
  /** How long the old generation stays readable for nodes that have not switched yet. */
  retireAfterMs?: number;
}

/**
 * Runs one projection on this node: the runner of the live generation and, during a rebuild,
 * the runner filling the next generation from position 0. Several nodes may host the same
 * projection; leases make sure each generation is applied by one of them at a time.
 */
export class ProjectionHost {
  private readonly meta: DocCollection<ProjectionMeta>;
  private readonly checkpoints: Checkpoints;
  private readonly runners = new Map<number, Runner>();
  private current: ProjectionMeta | null = null;
  private switching = false;
  /** Old generations waiting to be dropped, and drops under way: stop() must not leave them behind. */
  private readonly retireTimers = new Set<NodeJS.Timeout>();
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly options: ProjectionHostOptions) {
    this.meta = options.store.collection<ProjectionMeta>(PROJECTIONS);
    this.checkpoints = new Checkpoints(options.store);
  }

  get name(): string {
    return this.options.projection.name;
  }

  /** The physical collection queries should read now. */
  get collection(): string {
    return generationCollection(this.options.projection, this.current?.generation ?? 1);
  }

  async start(): Promise<void> {
    await this.refresh();
    // A stop soon after a switch cleared the timer that retires the previous generation: it
    // would stay in the store for good.
    const meta = this.current!;
    if ((meta.version ?? 1) !== this.version && meta.rebuilding === null) {
      this.options.logger.info(
        `projection ${this.name}: built by version ${meta.version ?? 1}, this is ${this.version}: rebuilding`,
      );
      await this.rebuild();
    } else if (meta.generation > 1 && meta.rebuilding === null) {
      this.retireLater(meta.generation - 1, meta.switchedAt + this.retireAfterMs - Date.now());
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.retireTimers) clearTimeout(timer);
    this.retireTimers.clear();
    await Promise.all([...this.retiring, ...[...this.runners.values()].map((r) => r.stop())]);
    this.runners.clear();
  }

  wake(): void {
    for (const runner of this.runners.values()) runner.wake();
  }

  resume(): void {
    for (const runner of this.runners.values()) runner.resume();
  }

  /**
   * Waits until the live generation has applied `pos`: read-your-writes for the caller that
   * just appended it. On a replica that does not hold the lease, the shared checkpoint tells.
   */
  async waitFor(pos: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const generation = this.current?.generation ?? 1;
    const local = this.runners.get(generation);
    if (local && (await local.waitFor(pos, Math.min(timeoutMs, 50)))) return true;
    while (Date.now() < deadline) {
      const cp = await this.checkpoints.get(checkpointName(this.options.projection, generation));
      if ((cp?.pos ?? 0) >= pos || (local?.position ?? 0) >= pos) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  /** Starts building the next generation; queries keep reading the current one meanwhile. */
  async rebuild(): Promise<number> {
    const meta = await this.loadMeta();
    if (meta.rebuilding !== null) return meta.rebuilding;
    const next = meta.generation + 1;
    // Leftovers of an abandoned attempt would break the "from zero" promise.
    await this.options.store.collection(generationCollection(this.options.projection, next)).drop();
    await this.checkpoints.remove(checkpointName(this.options.projection, next));
    const ok = await this.meta.updateOne({ _id: this.name, generation: meta.generation, rebuilding: null }, { rebuilding: next });
    if (!ok) return (await this.loadMeta()).rebuilding ?? meta.generation;
    this.options.logger.info(`projection ${this.name}: rebuilding into generation ${next}`);
    await this.refresh();
    return next;
  }

  /** Aligns the runners on this node with the shared metadata (after a switch elsewhere). */
  async refresh(): Promise<void> {
    const meta = await this.loadMeta();
    const previous = this.current?.generation;
    this.current = meta;
    const wanted = new Set([meta.generation, ...(meta.rebuilding ? [meta.rebuilding] : [])]);
    for (const generation of wanted) if (!this.runners.has(generation)) await this.startRunner(generation);
    // Queries move first; only then does the old generation stop, so nobody reads a retired one.
    if (previous !== undefined && previous !== meta.generation) await this.options.onSwitch?.(this.collection);
    for (const [generation, runner] of this.runners) {
      if (!wanted.has(generation)) {
        this.runners.delete(generation);
        await runner.stop();
      }
    }
  }

  async status(): Promise<ProjectionStatus> {
    const meta = this.current ?? (await this.loadMeta());
    const runners = await Promise.all(
      [...this.runners.entries()].map(async ([generation, r]) => ({ ...(await r.status()), generation })),
    );
    return {
      projection: this.name,
      generation: meta.generation,
      collection: this.collection,
      rebuilding: meta.rebuilding,
      runners,
    };
  }

  private async startRunner(generation: number): Promise<void> {
    const { projection, store, tuning } = this.options;
    const collection = generationCollection(projection, generation);
    const docs = store.collection<ReadDoc>(collection);
    for (const index of projection.indexes ?? []) await docs.ensureIndex(index);
    const runner = new Runner({
      ...tuning,
      name: checkpointName(projection, generation),
      log: store.log(projection.log),
      checkpoints: this.checkpoints,
      owner: this.options.owner,
      logger: this.options.logger,
      handle: (commits) => applyBatch(projection, store, collection, commits),
    });
    this.runners.set(generation, runner);
    runner.start();
    if (this.current?.rebuilding === generation) void this.watchRebuild(generation, runner);
  }

  private async watchRebuild(generation: number, runner: Runner): Promise<void> {
    while (this.runners.get(generation) === runner && this.current?.rebuilding === generation) {
      await this.switchIfCaughtUp(generation, runner).catch((err) =>
        this.options.logger.warn(`projection ${this.name}: switch check failed: ${String(err)}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async switchIfCaughtUp(generation: number, runner: Runner): Promise<void> {
    if (this.switching) return;
    const status = await runner.status();
    if (status.lag > 0 || status.state === "standby" || status.state === "starting") return;
    this.switching = true;
    try {
      const old = this.current!.generation;
      const ok = await this.meta.updateOne(
        { _id: this.name, generation: old, rebuilding: generation },
        { generation, rebuilding: null, switchedAt: Date.now(), version: this.version },
      );
      if (!ok) return;
      this.options.logger.info(`projection ${this.name}: switched to generation ${generation} at position ${status.pos}`);
      await this.refresh();
      this.retireLater(old, this.retireAfterMs);
    } finally {
      this.switching = false;
    }
  }

  private get version(): number {
    return this.options.projection.version ?? 1;
  }

  private get retireAfterMs(): number {
    return this.options.retireAfterMs ?? 30_000;
  }

  /** Drops generation `old` once nodes that have not switched yet are done reading it. */
  private retireLater(old: number, delayMs: number): void {
    const timer = setTimeout(
      () => {
        this.retireTimers.delete(timer);
        const retiring = this.retire(old)
          .catch((err) => this.options.logger.warn(`projection ${this.name}: generation ${old} not retired: ${String(err)}`))
          .finally(() => this.retiring.delete(retiring));
        this.retiring.add(retiring);
      },
      Math.max(0, delayMs),
    );
    timer.unref();
    this.retireTimers.add(timer);
  }

  private async retire(old: number): Promise<void> {
    await this.options.store.collection(generationCollection(this.options.projection, old)).drop();
    await this.checkpoints.remove(checkpointName(this.options.projection, old));
  }

  private async loadMeta(): Promise<ProjectionMeta> {
    const existing = await this.meta.get(this.name);
    if (existing) return existing;
    try {
      await this.meta.insert({ _id: this.name, generation: 1, rebuilding: null, switchedAt: Date.now(), version: this.version });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    return (await this.meta.get(this.name))!;
  }
}
