import { JsKernels, type Kernels, NativeKernels } from "sluice/advanced";
import { requireNativeBinding } from "../kernels/native-binding.js";

/**
 * Both engines, each as the loader would hand it to the streaming operators (pass one as the
 * `kernels` option of a context or of `runBatches`): the native
 * kernels (with the loader's small-batch threshold, or with every batch sent to the addon) and
 * the TypeScript twin that `SLUICE_FORCE_JS=1` forces.
 */
export const ENGINES: ReadonlyArray<readonly [string, () => Kernels]> = [
  ["native", () => new NativeKernels(requireNativeBinding())],
  ["native, no threshold", () => new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 })],
  ["js", () => new JsKernels()],
];

/** Which kernels a test saw called, by method name. */
export interface CallCounts {
  readonly calls: Map<string, number>;
  readonly kernels: Kernels;
}

/**
 * `base` with every call counted, so a test can tell the kernel path from the JavaScript one.
 *
 * @example
 * const { kernels, calls } = countingKernels(new JsKernels());
 */
export function countingKernels(base: Kernels): CallCounts {
  const calls = new Map<string, number>();
  const kernels = new Proxy(base, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { calls, kernels };
}

/**
 * A record as text that tells apart what `toEqual` may not: `-0` from `0`, `1` from `1n`, NaN
 * payloads aside.
 */
export function exact(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(exact).join(",")}]`;
  return JSON.stringify(value) ?? String(value);
}

/** Partitions of records as exact text, for `toEqual`. */
export function exactPartitions(partitions: ReadonlyArray<ReadonlyArray<unknown>>): string[][] {
  return partitions.map((partition) => partition.map(exact));
}
