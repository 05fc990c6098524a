import { addSinkOutput } from "../plugins/sink-output.js";
import { BatchMappedDStream } from "./batch-mapped-dstream.js";
import { ByteParsedDStream } from "./byte-parsed-dstream.js";
import { CoGroupedDStream } from "./co-grouped-dstream.js";
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
import { registerOperators } from "./operator-registry.js";
import { PairedWithOneDStream } from "./paired-with-one-dstream.js";
import { ReducedWindowedDStream } from "./reduced-windowed-dstream.js";
import { ShuffledDStream } from "./shuffled-dstream.js";
import { StateDStream } from "./state-dstream.js";
import { TransformedDStream } from "./transformed-dstream.js";
import { UnionDStream } from "./union-dstream.js";
import { WindowedDStream } from "./windowed-dstream.js";

// Loaded by the context module, so the operators are registered before any stream exists.
registerOperators({
  addSinkOutput,
  BatchMappedDStream,
  ByteParsedDStream,
  CoGroupedDStream,
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
