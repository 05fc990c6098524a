export {
  type BatchObservation,
  PidRateEstimator,
  type PidRateEstimatorOptions,
} from "./pid-rate-estimator.js";
export { RateController, type RateControlOptions } from "./rate-controller.js";
export {
  type PauseReason,
  recordBytes,
  SourceFlowControl,
  type SourceFlowControlOptions,
} from "./source-flow-control.js";
