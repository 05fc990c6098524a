export { JsKernels } from "./js-kernels.js";
export type { Kernels, KernelsKind, KeyColumn } from "./kernels.js";
export { keyColumnFromStrings, validateKeyColumn } from "./key-column.js";
export { chooseKernels, type KernelsChoice, loadKernels } from "./load-kernels.js";
export { murmur3 } from "./murmur3.js";
export { type NativeBinding, NativeKernels } from "./native-kernels.js";
