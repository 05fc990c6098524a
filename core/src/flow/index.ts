export {
  type BatchObservation,
  PidRateEstimator,
  type PidRateEstimatorOptions,
} from "./pid-rate-estimator.js";
export { RateController, type RateControlOptions } from "./rate-controller.js";
