export { AGGREGATE_OPS } from "./aggregate-op.js";
export { JsKernels } from "./js-kernels.js";
export { JsWindowAggregator } from "./js-window-aggregator.js";
export type {
  AggregateOp,
  I64Groups,
  Kernels,
  KernelsKind,
  KeyColumn,
  ParsedColumn,
  ParsedNumbers,
  ShuffleResult,
  TextParser,
  Utf8Groups,
  WindowAggregator,
  WindowGroups,
  WindowKeyKind,
  WindowKeys,
  WindowOptions,
} from "./kernels.js";
export {
  decodeKeyColumn,
  decodeKeyColumnWith,
  keyColumnFromBuffers,
  keyColumnFromStrings,
  validateKeyColumn,
} from "./key-column.js";
export {
  type ChooseKernelsOptions,
  chooseKernels,
  createKernelsChooser,
  decideKernels,
  type KernelsChoice,
} from "./load-kernels.js";
export { murmur3 } from "./murmur3.js";
export {
  DEFAULT_JS_BELOW_ROWS,
  type NativeBinding,
  NativeKernels,
  type NativeKernelsOptions,
} from "./native-kernels.js";
export { NativeWindowAggregator } from "./native-window-aggregator.js";
