import { deserialize, serialize } from "node:v8";
import type { KeyedBatch, KeyedExchange } from "../connector/keyed-exchange.js";
import type { StreamingContext } from "../context/streaming-context.js";
import type { DStream } from "../dstream/dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import type { OperatorCheckpoint } from "../recovery/checkpoint-data.js";
import { type NamedOperator, nameStatefulOperators } from "../recovery/operator-names.js";
import { ManualClock } from "../scheduler/manual-clock.js";
import { deserializeOwned } from "../util/owned-deserialize.js";
import { pairsOfChunks } from "./keyed-chunks.js";
import { findKeyedCut } from "./keyed-cut.js";
import { readPartials } from "./keyed-partials.js";
import { mapSideCombineOf } from "./map-side-combine.js";

/** What a keyed task needs: how to build the job's graph again, and where it was cut. */
export interface KeyedTaskSpec {
  readonly partition: number;
  readonly batchInterval: number;
  readonly exchange: KeyedExchange;
  /** Builds the job on a new context with the given clock (not yet started). */
  readonly buildContext: (clock: ManualClock, partition: number) => Promise<StreamingContext>;
  /** The id of the stream the job was cut at (stream ids follow construction order). */
  readonly boundaryId: number;
  /** The output operations the task runs (their `outputId`s). */
  readonly keyedOutputIds: ReadonlySet<number>;
}

/**
 * One keyed partition of a cluster job, run by the process that owns it: the job's graph built
 * again on a context of its own, fed at the cut with the pairs the processes sent to this
 * partition, running only the outputs that read the keyed operators. It restores its operators'
 * state from the partition's last commit, computes each complete batch in time order (on a
 * manual clock moved to the batch's time, from zero time 0, so windows end at the same times in
 * every task), and commits the operators' state after each batch.
 *
 * @example
 * await new KeyedTask(spec).run(abort.signal);
 */
export class KeyedTask {
  readonly #spec: KeyedTaskSpec;

  constructor(spec: KeyedTaskSpec) {
    this.#spec = spec;
  }

  /**
   * Runs until `signal` aborts or the exchange takes the partition away (resolves), or a batch
   * fails (rejects).
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.#run(signal);
    } catch (error) {
      // The exchange revoked the partition (a rebalance, a newer restore): its next owner goes on.
      if (isAbortError(error)) return;
      throw error;
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { exchange, partition, batchInterval } = this.#spec;
    const restored = await exchange.restore(partition);
    if (signal.aborted) return;
    let first: KeyedBatch | undefined;
    let startTime: number;
    if (restored === undefined) {
      first = await abortable(exchange.nextBatch(partition, signal), signal);
      if (first === undefined) return;
      startTime = first.time;
    } else {
      startTime = restored.time + batchInterval;
    }
    const clock = new ManualClock(startTime - batchInterval);
    const ctx = await this.#spec.buildContext(clock, partition);
    // Every keyed partition writes the same batch times: its sinks keep its writes apart.
    ctx.writeAs(`keyed-${partition}`);
    // The chunks of each batch still to compute: decoded when read, so each reader gets its own.
    const received = new Map<number, readonly Uint8Array[]>();
    const operators = this.#cut(ctx, startTime, received);
    const commitEvery = commitIntervalOf(ctx);
    ctx.planStart({
      zeroTime: 0,
      startTime,
      restore: () =>
        restoreOperators(
          operators,
          restored === undefined ? undefined : deserialize(restored.state),
          startTime - batchInterval,
        ),
    });
    await ctx.start();
    try {
      for (;;) {
        const batch = first ?? (await abortable(exchange.nextBatch(partition, signal), signal));
        first = undefined;
        if (batch === undefined) return;
        received.set(batch.time, batch.chunks);
        clock.setTime(batch.time);
        await ctx.scope.awaitProcessed(batch.time);
        const failure = ctx.scope.firstError();
        if (failure !== undefined) throw failure;
        for (const time of received.keys()) if (time <= batch.time) received.delete(time);
        // Between commits (checkpoint(interval)), the next owner computes the batches since
        // the last commit again from the same chunks, which stay until a commit passes them.
        if (commitEvery !== undefined && batch.time % commitEvery !== 0) continue;
        const state = serialize(await saveOperators(operators, batch.time));
        // A partition taken away keeps its last commit: the next owner redoes the batch.
        if (signal.aborted) return;
        await exchange.commit(partition, batch.time, state);
      }
    } finally {
      await ctx.stop();
    }
  }

  // Keeps the keyed outputs, drops the inputs, and feeds the cut stream.
  #cut(
    ctx: StreamingContext,
    startTime: number,
    received: ReadonlyMap<number, readonly Uint8Array[]>,
  ): NamedOperator[] {
    const { graph, streams } = ctx.scope;
    const boundary = streams.get(this.#spec.boundaryId) as DStream<unknown> | undefined;
    if (boundary === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `keyed partition ${this.#spec.partition}: the job built a different graph (no stream ${this.#spec.boundaryId}); the job's build function must create the same streams every time it runs`,
      );
    }
    // The map sides combined (or not) from the same cut of the same job.
    const cut = findKeyedCut(graph.outputs);
    if (cut?.boundary !== boundary) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `keyed partition ${this.#spec.partition}: the job built a different graph (not cut at stream ${this.#spec.boundaryId}); the job's build function must create the same streams every time it runs`,
      );
    }
    const kept = graph.outputs.filter((output) => this.#spec.keyedOutputIds.has(output.outputId));
    graph.outputs.splice(0, graph.outputs.length, ...kept);
    graph.inputs.splice(0, graph.inputs.length);
    // Keeping its own batch stops per-record operators below from fusing through it.
    boundary.cache();
    const combine = mapSideCombineOf(cut);
    const expected = combine?.partials ?? "values";
    const pairsAt = (time: number) =>
      time < startTime
        ? undefined
        : { time, partitions: [pairsOfChunks(received.get(time) ?? [], expected)] };
    boundary.feedFrom(pairsAt);
    if (combine !== undefined) {
      readPartials(cut.boundaryReaders, combine.partials, pairsAt, ctx.scope.kernels);
    }
    return nameStatefulOperators(kept);
  }
}

/**
 * How often a keyed task commits, in ms of batch time: the shortest interval the job's streams
 * ask for with `checkpoint(interval)` (as a job with a checkpoint folder checkpoints), commits at
 * batch times that are multiples of it, from zero time 0 as every task counts; `undefined`
 * commits after every batch.
 */
function commitIntervalOf(ctx: StreamingContext): number | undefined {
  const intervals = [...ctx.scope.streams.values()]
    .map((stream) => stream.checkpointInterval)
    .filter((interval): interval is number => interval !== undefined);
  return intervals.length === 0 ? undefined : Math.min(...intervals);
}

async function saveOperators(
  operators: readonly NamedOperator[],
  time: number,
): Promise<OperatorCheckpoint[]> {
  const saved: OperatorCheckpoint[] = [];
  for (const { name, derived, operator } of operators) {
    saved.push({
      name,
      derivedName: derived,
      kind: operator.stateKind,
      fingerprint: operator.stateFingerprint(),
      state: serialize(await operator.saveState(time)),
    });
  }
  return saved;
}

function restoreOperators(operators: readonly NamedOperator[], saved: unknown, time: number): void {
  const entries = new Map(
    (Array.isArray(saved) ? (saved as OperatorCheckpoint[]) : []).map((entry) => [
      entry.name,
      entry,
    ]),
  );
  for (const { name, operator } of operators) {
    const entry = entries.get(name);
    if (
      entry !== undefined &&
      entry.kind === operator.stateKind &&
      entry.fingerprint === operator.stateFingerprint()
    ) {
      operator.restoreState(deserializeOwned(entry.state), time);
    } else {
      operator.startFresh(time);
    }
  }
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

// Resolves `undefined` instead of rejecting when the signal aborted.
async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}
