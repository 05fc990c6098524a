import type { Kernels } from "../kernels/kernels.js";
import type { Batch } from "./batch.js";
import { DStream } from "./dstream.js";
import { mapNamed, type NamedReduction, reduceNamed, wholeBatch } from "./named-reductions.js";
import {
  type MapInput,
  type MapSideOptions,
  type ReduceOutput,
  type ShuffleBlock,
  type ShuffleOperator,
  shuffleInMemory,
} from "./shuffle-operator.js";

/**
 * `reduceByKey("sum" | "count" | "min" | "max")`: a declarative reduction per key on the
 * kernels. Its map side (`mapNamed`) writes columns where the kernels can group the keys, its
 * reduce side (`reduceNamed`) reduces them; in memory the whole batch is one map task.
 *
 * @example
 * pairs.reduceByKey("sum"); // a NamedReducedDStream
 */
export class NamedReducedDStream<K> extends DStream<[K, number]> implements ShuffleOperator {
  readonly requiresEveryParent = false;

  constructor(
    readonly parent: DStream<readonly [K, unknown]>,
    readonly op: NamedReduction,
    readonly numPartitions: number,
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

  mapSide(input: MapInput, _side: number, options: MapSideOptions): ShuffleBlock[] {
    return mapNamed(input, this.op, this.numPartitions, options);
  }

  reduceSide(blocks: ReadonlyArray<ReadonlyArray<ShuffleBlock>>, kernels: Kernels): ReduceOutput {
    return reduceNamed(blocks[0] ?? [], this.op, kernels);
  }

  protected async compute(time: number): Promise<Batch<[K, number]> | undefined> {
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return shuffleInMemory(this, [[wholeBatch(batch)]], time, this.scope.kernels);
  }
}
