import type { BatchMappedDStream } from "./batch-mapped-dstream.js";
import type { ByteParsedDStream } from "./byte-parsed-dstream.js";
import type { CoGroupedDStream } from "./co-grouped-dstream.js";
import type { ColumnMappedDStream } from "./column-mapped-dstream.js";
import type { FilteredDStream } from "./filtered-dstream.js";
import type { FlatMappedDStream } from "./flat-mapped-dstream.js";
import type { FlatMappedValuesDStream } from "./flat-mapped-values-dstream.js";
import type { ForEachDStream } from "./for-each-dstream.js";
import type { GlommedDStream } from "./glommed-dstream.js";
import type { MapPartitionedDStream } from "./map-partitioned-dstream.js";
import type { MapWithStateDStream } from "./map-with-state-dstream.js";
import type { MappedDStream } from "./mapped-dstream.js";
import type { MappedValuesDStream } from "./mapped-values-dstream.js";
import type { NamedReducedDStream } from "./named-reduced-dstream.js";
import type { NamedWindowedDStream } from "./named-windowed-dstream.js";
import type { PairedWithOneDStream } from "./paired-with-one-dstream.js";
import type { ReducedWindowedDStream } from "./reduced-windowed-dstream.js";
import type { ShuffledDStream } from "./shuffled-dstream.js";
import type { StateDStream } from "./state-dstream.js";
import type { TransformedDStream } from "./transformed-dstream.js";
import type { UnionDStream } from "./union-dstream.js";
import type { WindowedDStream } from "./windowed-dstream.js";

/**
 * The operator classes `DStream`'s methods instantiate. `DStream` cannot import them directly:
 * each of them extends `DStream`, and ES modules would evaluate a subclass before its base. So
 * `dstream.ts` imports only their types, and the context puts the classes (`OPERATORS` of
 * `operators.ts`) in the scope every stream holds.
 */
export interface OperatorClasses {
  BatchMappedDStream: typeof BatchMappedDStream;
  ByteParsedDStream: typeof ByteParsedDStream;
  CoGroupedDStream: typeof CoGroupedDStream;
  ColumnMappedDStream: typeof ColumnMappedDStream;
  FilteredDStream: typeof FilteredDStream;
  FlatMappedDStream: typeof FlatMappedDStream;
  FlatMappedValuesDStream: typeof FlatMappedValuesDStream;
  ForEachDStream: typeof ForEachDStream;
  GlommedDStream: typeof GlommedDStream;
  MapPartitionedDStream: typeof MapPartitionedDStream;
  MapWithStateDStream: typeof MapWithStateDStream;
  MappedDStream: typeof MappedDStream;
  MappedValuesDStream: typeof MappedValuesDStream;
  NamedReducedDStream: typeof NamedReducedDStream;
  NamedWindowedDStream: typeof NamedWindowedDStream;
  PairedWithOneDStream: typeof PairedWithOneDStream;
  ReducedWindowedDStream: typeof ReducedWindowedDStream;
  ShuffledDStream: typeof ShuffledDStream;
  StateDStream: typeof StateDStream;
  TransformedDStream: typeof TransformedDStream;
  UnionDStream: typeof UnionDStream;
  WindowedDStream: typeof WindowedDStream;
}
