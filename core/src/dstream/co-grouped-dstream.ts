import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { checkCombinable, requireParentBatches } from "./parents.js";
import { cogroupReduceSide, placeRows } from "./shuffle.js";
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
 * `cogroup` (and the joins built on it): per key, the values of both streams' batches. Spark
 * builds this from `transformWith`, so both streams must have a batch at every time. Its map side
 * places each parent partition's pairs; its reduce side groups them, left then right.
 *
 * @example
 * orders.cogroup(payments); // a CoGroupedDStream
 */
export class CoGroupedDStream<K, V, W> extends DStream<[K, [V[], W[]]]> implements ShuffleOperator {
  readonly requiresEveryParent = true;

  constructor(
    readonly left: DStream<readonly [K, V]>,
    readonly right: DStream<readonly [K, W]>,
    readonly numPartitions: number,
  ) {
    checkCombinable([left, right], "cogroup");
    super(left.scope);
  }

  get slideDuration(): number {
    return this.left.slideDuration;
  }

  get dependencies(): ReadonlyArray<DStream<unknown>> {
    return [this.left, this.right];
  }

  get shuffleParents(): ReadonlyArray<DStream<unknown>> {
    return [this.left, this.right];
  }

  mapSide(input: MapInput): ShuffleBlock[] {
    const records = mapInputRecords(input) as ReadonlyArray<readonly [K, unknown]>;
    return rowsBlocks(placeRows(records, this.numPartitions));
  }

  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>): ReduceOutput {
    return cogroupReduceSide(blocks.map((side) => side.map((block) => blockRows(block))));
  }

  protected async compute(time: number): Promise<Batch<[K, [V[], W[]]]>> {
    const sources = await requireParentBatches([this.left, this.right], time, "cogroup");
    return shuffleInMemory(
      this,
      sources.map((source) => source.partitions),
      time,
      this.scope.kernels,
    );
  }
}
