/**
 * `sluice/testing/conformance`: the connector conformance kit. It registers vitest suites, so
 * it is an entry of its own: `sluice/testing` loads without vitest installed.
 */

export type {
  ConformanceCheck,
  ConformancePlan,
  InvalidConfigExample,
  NotChecked,
} from "./harness.js";
export { LogCapture } from "./log-capture.js";
export {
  describeSinkConformance,
  type SinkConformanceCase,
  type SinkConformanceFixture,
  type SinkConformanceOptions,
  sinkConformanceCases,
} from "./sink-conformance.js";
export {
  describeSourceConformance,
  type SourceConformanceCase,
  type SourceConformanceFixture,
  type SourceConformanceOptions,
  sourceConformanceCases,
} from "./source-conformance.js";
