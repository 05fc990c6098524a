import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
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
export class ShuffledDStream<K, V, C> extends DStream<[K, C]> implements ShuffleOperator {
  readonly requiresEveryParent = false;

  constructor(
    readonly parent: DStream<readonly [K, V]>,
    readonly aggregator: Aggregator<V, C>,
    readonly numPartitions: number,
    readonly mapSideCombine: boolean,
  ) {
    super(parent.scope);
  }

  get slideDuration(): number {
    return this.parent.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  get shuffleParents(): ReadonlyArray<DStream<unknown>> {
    return [this.parent];
  }

  mapSide(input: MapInput): ShuffleBlock[] {
    const records = mapInputRecords(input) as ReadonlyArray<readonly [K, V]>;
    return rowsBlocks(
      combineMapSide(records, this.aggregator, this.numPartitions, this.mapSideCombine),
    );
  }

  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>): ReduceOutput {
    const mapOutputs = (blocks[0] ?? []).map((block) => blockRows(block));
    return combineReduceSide(mapOutputs, this.aggregator, this.mapSideCombine);
  }

  protected async compute(time: number): Promise<Batch<[K, C]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return shuffleInMemory(this, [batch.partitions], time, this.scope.kernels);
  }
}
