/**
 * `sluice/testing`: helpers for testing Sluice jobs and connectors.
 */
export { JsKernels } from "../kernels/js-kernels.js";
export { ManualClock } from "../scheduler/manual-clock.js";
export * from "./conformance/index.js";
export { cachedBatchTimes } from "./inspect.js";
export {
  type InputBatches,
  type InputRecord,
  type RunBatchesOptions,
  runBatches,
} from "./run-batches.js";
export { TestInputDStream } from "./test-input-dstream.js";
