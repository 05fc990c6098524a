import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Batch,
  batchRecords,
  type CheckpointOptions,
  type DStream,
  type SourcePlugin,
  type State,
  StreamingContext,
  type StreamingContextOptions,
} from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, beforeEach } from "vitest";

const decoder = new TextDecoder();

/** Every output of a job: per label, per batch time, the batch's records (a replay overwrites). */
export class Outputs {
  readonly byLabel = new Map<string, Map<number, unknown[]>>();

  /** An output operation writing `stream`'s batches under `label`. */
  write<T>(label: string, stream: DStream<T>): void {
    stream.foreachBatch((batch: Batch<T>, time: number) => {
      let byTime = this.byLabel.get(label);
      if (byTime === undefined) {
        byTime = new Map();
        this.byLabel.set(label, byTime);
      }
      byTime.set(time, sortRecords(batchRecords(batch)));
    });
  }

  /** One label's batches as `[time, records]`, in time order. */
  batches(label: string): [number, unknown[]][] {
    return [...(this.byLabel.get(label) ?? new Map<number, unknown[]>())].sort(([a], [b]) => a - b);
  }
}

function sortRecords(records: unknown[]): unknown[] {
  return [...records].sort((a, b) => {
    const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * The word count used across the recovery tests: running totals (`updateStateByKey`), a
 * sliding window with an inverse (`reduceByKeyAndWindow`), a window without one, and
 * `mapWithState` — every kind of state a checkpoint holds.
 */
export function buildWordCount(
  ctx: StreamingContext,
  source: SourcePlugin,
  outputs: Outputs,
  names: { totals?: string; recent?: string; sessions?: string } = {},
): void {
  const words = ctx
    .source(source, {}, { id: "words" })
    .flatMap((record) => decoder.decode(record.value).split(" "));
  const pairs = words.map((word): [string, number] => [word, 1]);
  const totals = pairs.updateStateByKey((values: number[], total: number | undefined) =>
    values.reduce((a, b) => a + b, total ?? 0),
  );
  if (names.totals !== undefined) totals.name(names.totals);
  outputs.write("totals", totals);
  const recent = pairs.reduceByKeyAndWindow((a, b) => a + b, {
    window: 3000,
    inverse: (a, b) => a - b,
    filter: ([, count]) => count > 0,
  });
  if (names.recent !== undefined) recent.name(names.recent);
  outputs.write("recent", recent);
  outputs.write("pairs-of-batches", pairs.window(2000, 2000).countByValue());
  const sessions = pairs.mapWithState({
    fn: (word: string, one: number | undefined, state: State<number>) => {
      const seen = (state.getOption() ?? 0) + (one ?? 0);
      state.update(seen);
      return [word, seen] as const;
    },
  });
  if (names.sessions !== undefined) sessions.name(names.sessions);
  outputs.write("sessions", sessions.stateSnapshots());
}

/** A temporary checkpoint folder. */
export async function temporaryFolder(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A fresh checkpoint folder for every test of the file, removed after it, and the list of the
 * contexts a test started: they are stopped after it (crashed ones too, without a checkpoint,
 * since nobody moves their clock any more).
 */
export function folderPerTest(prefix: string): {
  readonly path: string;
  readonly running: StreamingContext[];
} {
  let folder: { path: string; remove: () => Promise<void> } | undefined;
  const running: StreamingContext[] = [];
  beforeEach(async () => {
    folder = await temporaryFolder(prefix);
  });
  afterEach(async () => {
    for (const ctx of running.splice(0)) await ctx.stop().catch(() => undefined);
    await folder?.remove();
  });
  return {
    get path() {
      if (folder === undefined) throw new Error("the folder exists only while a test runs");
      return folder.path;
    },
    running,
  };
}

/** A context on a manual clock, through getOrCreate, started. */
export async function startJob(
  directory: string,
  clock: ManualClock,
  build: (ctx: StreamingContext) => void,
  options: CheckpointOptions = {},
  batchInterval = 1000,
  contextOptions: Partial<StreamingContextOptions> = {},
): Promise<StreamingContext> {
  const ctx = await StreamingContext.getOrCreate(
    directory,
    () => {
      const created = new StreamingContext({
        ...contextOptions,
        batchInterval,
        clock,
        defaultParallelism: 2,
      });
      build(created);
      return created;
    },
    options,
  );
  await ctx.start();
  return ctx;
}

/** Resolves once every batch up to `time` ran and was committed; throws the job's first error. */
export async function processed(ctx: StreamingContext, time: number): Promise<void> {
  await ctx.scope.awaitProcessed(time);
  const error = ctx.scope.firstError();
  if (error !== undefined) throw error;
}

export { ManualClock };
