import type { Batch } from "./batch.js";
import { batchOf } from "./columnar-batch.js";
import { CombinerTable } from "./combiner-table.js";
import type { DStream } from "./dstream.js";
import { canFuseThrough, fusedChain } from "./fused-chain.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import { applySteps, fuseSteps, type RecordStep } from "./record-step.js";
import { type Aggregator, combineMapSide, combineReduceSide } from "./shuffle.js";
import {
  blockRows,
  type MapInput,
  mapInputRecords,
  type ReduceOutput,
  rowsBlocks,
  type ShuffleBlock,
  type ShuffleOperator,
  shuffleInMemory,
} from "./shuffle-operator.js";

/**
 * `combineByKey` and what is built on it (`reduceByKey`, `groupByKey`): Spark's `ShuffledDStream`.
 * Its map side combines each parent partition's values per key (`mapSideCombine`) and places
 * them; its reduce side merges the map outputs in map-partition order.
 *
 * @example
 * pairs.reduceByKey((a, b) => a + b); // a ShuffledDStream
 */
export class ShuffledDStream<K, V, C>
  extends OneParentDStream<readonly [K, V], [K, C]>
  implements ShuffleOperator
{
  readonly requiresEveryParent = false;

  constructor(
    parent: DStream<readonly [K, V]>,
    readonly aggregator: Aggregator<V, C>,
    readonly numPartitions: number,
    readonly mapSideCombine: boolean,
  ) {
    super(parent);
  }

  get shuffleParents(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  mapSide(input: MapInput): ShuffleBlock[] {
    const records = mapInputRecords(input) as ReadonlyArray<readonly [K, V]>;
    // Combined rows are one `[key, combiner]` per key (partial), built here.
    return rowsBlocks(
      combineMapSide(records, this.aggregator, this.numPartitions, this.mapSideCombine),
      this.mapSideCombine,
    );
  }

  /**
   * The map side over what `steps` (per-record operators, parent first) make of `records`, in
   * one loop that ends in each key's combiner: no array of pairs in between. With `tagErrors`
   * (on executors) an error is marked with the id of the step that threw.
   *
   * @example
   * shuffled.mapSideThrough(lines, [flatMapped, mapped]);
   */
  mapSideThrough(
    records: ReadonlyArray<unknown>,
    steps: ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
    tagErrors = false,
  ): ShuffleBlock[] {
    if (!this.mapSideCombine) {
      return this.mapSide(applySteps(records, steps, tagErrors) as MapInput);
    }
    const combiners = new CombinerTable<K, C>();
    const { createCombiner, mergeValue } = this.aggregator;
    const push = fuseSteps(
      steps,
      (pair) => {
        const row = pair as readonly [K, V];
        combiners.merge(row[0], row[1], createCombiner, mergeValue);
      },
      tagErrors,
    );
    for (let i = 0; i < records.length; i++) push(records[i]);
    return rowsBlocks(combiners.placedRows(this.numPartitions), true);
  }

  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>): ReduceOutput {
    const mapOutputs = (blocks[0] ?? []).map((block) => blockRows(block));
    return combineReduceSide(mapOutputs, this.aggregator, this.mapSideCombine);
  }

  protected async compute(time: number): Promise<Batch<[K, C]> | undefined> {
    const parent = this.parent as DStream<unknown>;
    if (this.mapSideCombine && canFuseThrough(parent)) return this.computeFused(parent, time);
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return shuffleInMemory(this, [batch.partitions], time, this.scope.kernels);
  }

  /**
   * The map side fused with the per-record operators above it (read by nothing else): each
   * partition's records go through their loop straight into the key's combiner, so no array
   * of pairs is made; then the reduce side, as `shuffleInMemory` runs it.
   */
  private async computeFused(
    parent: DStream<unknown>,
    time: number,
  ): Promise<Batch<[K, C]> | undefined> {
    const { root, steps } = fusedChain(parent as DStream<unknown> & RecordStep<unknown, unknown>);
    const batch = await root.getOrCompute(time);
    if (batch === undefined) return undefined;
    const mapOutputs = batch.partitions.map((records) => this.mapSideThrough(records, steps));
    const partitions = Array.from({ length: this.numPartitions }, (_, partition) =>
      this.reduceSide([mapOutputs.map((blocks) => blocks[partition] as ShuffleBlock)]),
    );
    return batchOf<[K, C]>(time, partitions);
  }
}
