/**
 * `sluice/testing`: helpers for testing Sluice jobs and connectors.
 */
export { JsKernels } from "../kernels/js-kernels.js";
export * from "./conformance/index.js";
