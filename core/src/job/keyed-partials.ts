import type { Batch } from "../dstream/batch.js";
import type { DStream } from "../dstream/dstream.js";
import { NamedReducedDStream } from "../dstream/named-reduced-dstream.js";
import { reduceBatchNamed } from "../dstream/named-reductions.js";
import { combineReduceSide, placeRows } from "../dstream/shuffle.js";
import { ShuffledDStream } from "../dstream/shuffled-dstream.js";
import { SluiceError } from "../errors/sluice-error.js";
import { partialMergeOp } from "../kernels/aggregate-op.js";
import type { Kernels } from "../kernels/kernels.js";
import type { KeyedPartials } from "./map-side-combine.js";

/** The pairs a keyed task received for a batch time, or `undefined` when it has no batch then. */
export type ReceivedPairs = (time: number) => Batch<unknown> | undefined;

/**
 * Makes the streams of a keyed task that read the cut (`readers`, `KeyedCut.boundaryReaders`)
 * take the partial results the map sides sent (`mapSideCombineOf` on the same cut) for what
 * they are, as Spark's reduce side does after a map-side combine: `combineByKey` combiners are
 * merged with the readers' `mergeCombiners` (not `mergeValue`), partial counts are added up
 * (not counted as one record each). Each such reader's batches then come from `received`, which
 * must give new objects on every call: `mergeCombiners` may change the combiner it merges into,
 * and one reader must not see another's. Partials the readers reduce again just as they reduce
 * values (`"values"`) need nothing: the readers read the cut as always.
 *
 * @example
 * readPartials(cut.boundaryReaders, "combiners", batchAt, ctx.scope.kernels);
 */
export function readPartials(
  readers: readonly DStream<unknown>[],
  partials: KeyedPartials,
  received: ReceivedPairs,
  kernels: Kernels,
): void {
  if (partials === "values") return;
  for (const reader of readers) {
    if (partials === "combiners" && reader instanceof ShuffledDStream) {
      readCombiners(reader as ShuffledDStream<unknown, unknown, unknown>, received);
    } else if (partials === "counts" && reader instanceof NamedReducedDStream) {
      readCounts(reader as NamedReducedDStream<unknown>, received, kernels);
    } else {
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `a keyed task was to read ${partials} at the cut, but ${reader.operatorName} (stream ${reader.id}) reads it`,
      );
    }
  }
}

function readCombiners(
  reader: ShuffledDStream<unknown, unknown, unknown>,
  received: ReceivedPairs,
): void {
  const { aggregator, numPartitions } = reader;
  reader.feedFrom((time) => {
    const batch = received(time);
    if (batch === undefined) return undefined;
    // Each received pair is one process's combiner for the key: the reduce side of a shuffle
    // whose map side combined, one map output per received partition.
    const mapOutputs = batch.partitions.map((pairs) =>
      placeRows(pairs as ReadonlyArray<readonly [unknown, unknown]>, numPartitions),
    );
    const partitions = Array.from({ length: numPartitions }, (_, partition) =>
      combineReduceSide(
        mapOutputs.map((placed) => placed[partition] ?? []),
        aggregator,
        true,
      ),
    );
    return { time, partitions };
  });
}

function readCounts(
  reader: NamedReducedDStream<unknown>,
  received: ReceivedPairs,
  kernels: Kernels,
): void {
  const { op, numPartitions } = reader;
  reader.feedFrom((time) => {
    const batch = received(time);
    if (batch === undefined) return undefined;
    return reduceBatchNamed(
      batch as Batch<readonly [unknown, unknown]>,
      partialMergeOp(op),
      numPartitions,
      kernels,
    );
  });
}
