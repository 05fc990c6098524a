/**
 * `sluice/testing`: helpers for testing Sluice jobs and connectors. It loads without vitest;
 * the conformance kit, which registers vitest suites, is `sluice/testing/conformance`.
 */

export {
  isStreamsJob,
  type StreamsJob,
  type StreamsJobFactory,
  streamsJob,
  streamsJobFactory,
} from "../job/streams-job.js";
export { JsKernels } from "../kernels/js-kernels.js";
export {
  type CrashPoint,
  FaultInjectingFileSystem,
  type FileStep,
  type TakenStep,
} from "../recovery/fault-injecting-fs.js";
export { ManualClock } from "../scheduler/manual-clock.js";
export { LogCapture } from "./conformance/log-capture.js";
export { executorThreadIds } from "./executors.js";
export { cachedBatchTimes, waitingInputRecords } from "./inspect.js";
export {
  type InputBatches,
  type InputRecord,
  type InputStreams,
  type RunBatchesOptions,
  runBatches,
} from "./run-batches.js";
export { TestInputDStream } from "./test-input-dstream.js";
