import type { AllocateBuffer } from "../kernels/key-column.js";
import type { Batch } from "./batch.js";
import { batchOf } from "./columnar-batch.js";
import { CombinerTable } from "./combiner-table.js";
import type { DStream } from "./dstream.js";
import { canFuseThrough, fusedChain } from "./fused-chain.js";
import { notAPair } from "./not-a-pair.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import { feedOf, fuseSteps, type RecordFeed, type RecordStep } from "./record-step.js";
import { type Aggregator, combineReduceSide, placeRows } from "./shuffle.js";
import {
  blockRows,
  type MapInput,
  type MapSideOptions,
  mapInputRecords,
  type ReduceOutput,
  rowsBlocks,
  type ShuffleBlock,
  type ShuffleOperator,
  shuffleInMemory,
} from "./shuffle-operator.js";
import type { TextPairs } from "./text-pairs-batch.js";
import { textPairsBlock, textPairsOfBlocks } from "./text-pairs-block.js";
import { type MergedTextPairs, mergeTextPairs } from "./text-pairs-merge.js";

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

  mapSide(input: MapInput, _side = 0, options?: MapSideOptions): ShuffleBlock[] {
    const records = mapInputRecords(input) as ReadonlyArray<readonly [K, V]>;
    if (this.mapSideCombine) {
      const combiners = new CombinerTable<K, C>();
      const { createCombiner, mergeValue } = this.aggregator;
      for (let i = 0; i < records.length; i++) {
        const pair = records[i] as readonly [K, V];
        if (!Array.isArray(pair)) throw notAPair(pair, this.describe());
        combiners.merge(pair[0], pair[1], createCombiner, mergeValue);
      }
      return this.combinedBlocks(combiners, options?.allocate);
    }
    return rowsBlocks(placeRows(records, this.numPartitions), false);
  }

  // How the errors of a record name this stream.
  private describe(): string {
    return `${this.operatorName} (stream ${this.id})`;
  }

  /**
   * The map side over what `steps` (per-record operators, parent first) make of the records
   * `feed` hands over, in one loop that ends in each key's combiner: no array of pairs in
   * between. With `tagErrors`
   * (on executors) an error is marked with the id of the step that threw; with `allocate` (the
   * blocks cross threads) `[string, number]` combiners come as text pairs in that memory.
   *
   * @example
   * shuffled.mapSideThrough(feedOf(lines), [flatMapped, mapped]);
   */
  mapSideThrough(
    feed: RecordFeed,
    steps: ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
    tagErrors = false,
    allocate?: AllocateBuffer,
  ): ShuffleBlock[] {
    if (!this.mapSideCombine) {
      const pairs: unknown[] = [];
      feed(
        fuseSteps(
          steps,
          (pair) => {
            pairs.push(pair);
          },
          tagErrors,
        ),
      );
      return this.mapSide(pairs as MapInput);
    }
    const combiners = new CombinerTable<K, C>();
    const { createCombiner, mergeValue } = this.aggregator;
    const push = fuseSteps(
      steps,
      (pair) => {
        if (!Array.isArray(pair)) throw notAPair(pair, this.describe());
        const row = pair as unknown as readonly [K, V];
        combiners.merge(row[0], row[1], createCombiner, mergeValue);
      },
      tagErrors,
    );
    feed(push);
    return this.combinedBlocks(combiners, allocate);
  }

  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>): ReduceOutput {
    const merged = this.mergedTextPairs(blocks);
    if (merged !== undefined) return merged.rows();
    const mapOutputs = (blocks[0] ?? []).map((block) => blockRows(block));
    return combineReduceSide(mapOutputs, this.aggregator, this.mapSideCombine);
  }

  reduceSideAsTextPairs(
    blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>,
    allocate: AllocateBuffer,
  ): TextPairs | undefined {
    return this.mergedTextPairs(blocks)?.textPairs(allocate);
  }

  /** Combined blocks that all came as text pairs, merged without making their rows. */
  private mergedTextPairs(
    blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>,
  ): MergedTextPairs | undefined {
    if (!this.mapSideCombine) return undefined;
    const pairs = textPairsOfBlocks(blocks[0] ?? []);
    if (pairs === undefined) return undefined;
    const { mergeCombiners } = this.aggregator as unknown as Aggregator<unknown, unknown>;
    return mergeTextPairs(pairs, mergeCombiners);
  }

  /**
   * A map side's combiners placed into blocks: text pairs in `allocate`'s memory when given
   * (the blocks cross threads) and every row is `[string, number]`, else rows.
   */
  private combinedBlocks(
    combiners: CombinerTable<K, C>,
    allocate: AllocateBuffer | undefined,
  ): ShuffleBlock[] {
    const pairs =
      allocate === undefined ? undefined : combiners.placedTextPairs(this.numPartitions, allocate);
    if (pairs !== undefined) return pairs.map((partition) => textPairsBlock(partition, true));
    return rowsBlocks(combiners.placedRows(this.numPartitions), true);
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
    const mapOutputs = batch.partitions.map((records) =>
      this.mapSideThrough(feedOf(records), steps),
    );
    const partitions = Array.from({ length: this.numPartitions }, (_, partition) =>
      this.reduceSide([mapOutputs.map((blocks) => blocks[partition] as ShuffleBlock)]),
    );
    return batchOf<[K, C]>(time, partitions);
  }
}
