import type { Kernels, TextParser } from "../kernels/kernels.js";
import type { Batch } from "./batch.js";
import type { ByteParsedDStream } from "./byte-parsed-dstream.js";
import { ColumnarBatch, type ColumnarPartition } from "./columnar-batch.js";
import type { DStream } from "./dstream.js";
import { mapNamed, type NamedReduction, reduceNamed, wholeBatch } from "./named-reductions.js";
import { OneParentDStream } from "./one-parent-dstream.js";
import { countParsedPartitions, fusableParsedCount } from "./parsed-count.js";
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
export class NamedReducedDStream<K>
  extends OneParentDStream<readonly [K, unknown], [K, number]>
  implements ShuffleOperator
{
  readonly requiresEveryParent = false;

  constructor(
    parent: DStream<readonly [K, unknown]>,
    readonly op: NamedReduction,
    readonly numPartitions: number,
  ) {
    super(parent);
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
    const counted = this.op === "count" || this.op === "sum";
    const parsed = counted ? fusableParsedCount(this.parent as DStream<unknown>, time) : undefined;
    if (parsed !== undefined) return this.countFromBytes(parsed, time);
    const batch = await this.parent.getOrCompute(time);
    if (batch === undefined) return undefined;
    return shuffleInMemory(this, [[wholeBatch(batch)]], time, this.scope.kernels);
  }

  /**
   * `countByValue` after a byte parser, from the bytes: each partition's pieces parsed and
   * counted into one counter (the partitions at once, on the native module's threads), then the partial
   * counts merged with `sum` as one map task. The same batch as counting the parsed rows: keys
   * in first-seen order (the partials keep it, in partition order), exact integer counts.
   */
  private async countFromBytes(
    parsed: ByteParsedDStream<string> & { readonly parser: TextParser },
    time: number,
  ): Promise<Batch<[K, number]> | undefined> {
    const input = await parsed.parent.getOrCompute(time);
    if (input === undefined) return undefined;
    const kernels = this.scope.kernels;
    const counts = await countParsedPartitions(
      this.scope,
      parsed.parser,
      parsed.inputPieces(input),
      this.numPartitions,
    );
    if (counts === undefined) {
      // Bytes that are not valid UTF-8: counted as the strings they decode to.
      const batch = await this.parent.getOrCompute(time);
      if (batch === undefined) return undefined;
      return shuffleInMemory(this, [[wholeBatch(batch)]], time, kernels);
    }
    return new ColumnarBatch<[K, number]>(
      time,
      counts.map(({ keys, values }): ColumnarPartition => ({ kind: "pairs", keys, values })),
    );
  }
}
