import { BatchMappedDStream } from "./batch-mapped-dstream.js";
import { ByteParsedDStream } from "./byte-parsed-dstream.js";
import { CoGroupedDStream } from "./co-grouped-dstream.js";
import { ColumnMappedDStream } from "./column-mapped-dstream.js";
import { FilteredDStream } from "./filtered-dstream.js";
import { FlatMappedDStream } from "./flat-mapped-dstream.js";
import { FlatMappedValuesDStream } from "./flat-mapped-values-dstream.js";
import { ForEachDStream } from "./for-each-dstream.js";
import { GlommedDStream } from "./glommed-dstream.js";
import { MapPartitionedDStream } from "./map-partitioned-dstream.js";
import { MapWithStateDStream } from "./map-with-state-dstream.js";
import { MappedDStream } from "./mapped-dstream.js";
import { MappedValuesDStream } from "./mapped-values-dstream.js";
import { NamedReducedDStream } from "./named-reduced-dstream.js";
import { NamedWindowedDStream } from "./named-windowed-dstream.js";
import type { OperatorClasses } from "./operator-classes.js";
import { PairedWithOneDStream } from "./paired-with-one-dstream.js";
import { ReducedWindowedDStream } from "./reduced-windowed-dstream.js";
import { ShuffledDStream } from "./shuffled-dstream.js";
import { StateDStream } from "./state-dstream.js";
import { TransformedDStream } from "./transformed-dstream.js";
import { UnionDStream } from "./union-dstream.js";
import { WindowedDStream } from "./windowed-dstream.js";

/**
 * Every operator class, for the scope the context hands to its streams.
 *
 * @example
 * new OPERATORS.MappedDStream(parent, (x: number) => x + 1);
 */
export const OPERATORS: OperatorClasses = Object.freeze({
  BatchMappedDStream,
  ByteParsedDStream,
  CoGroupedDStream,
  ColumnMappedDStream,
  FilteredDStream,
  FlatMappedDStream,
  FlatMappedValuesDStream,
  ForEachDStream,
  GlommedDStream,
  MapPartitionedDStream,
  MapWithStateDStream,
  MappedDStream,
  MappedValuesDStream,
  NamedReducedDStream,
  NamedWindowedDStream,
  PairedWithOneDStream,
  ReducedWindowedDStream,
  ShuffledDStream,
  StateDStream,
  TransformedDStream,
  UnionDStream,
  WindowedDStream,
});

export { UnionDStream };
