export type { InvalidConfigExample } from "./harness.js";
export { LogCapture } from "./log-capture.js";
export {
  describeSinkConformance,
  type SinkConformanceCase,
  type SinkConformanceFixture,
  type SinkConformanceOptions,
} from "./sink-conformance.js";
export {
  describeSourceConformance,
  type SourceConformanceCase,
  type SourceConformanceFixture,
  type SourceConformanceOptions,
} from "./source-conformance.js";
