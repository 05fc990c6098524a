import { createRequire } from "node:module";
import { JsKernels } from "./js-kernels.js";
import type { Kernels } from "./kernels.js";
import { type NativeBinding, NativeKernels } from "./native-kernels.js";

/** Why the loader chose the kernels it did. */
export interface KernelsChoice {
  readonly kernels: Kernels;
  /** One line for the log: which kernels serve and why. */
  readonly reason: string;
}

let cached: KernelsChoice | undefined;

/**
 * Picks the native kernels when `@sluice/native` loads, else the TypeScript twin.
 * `SLUICE_FORCE_JS=1` forces the twin. The choice is made once per process.
 *
 * @example
 * const { kernels, reason } = chooseKernels();
 */
export function chooseKernels(env: NodeJS.ProcessEnv = process.env): KernelsChoice {
  if (cached === undefined) cached = decide(env);
  return cached;
}

/**
 * The kernels this process uses.
 *
 * @example
 * loadKernels().hashPartitionUtf8(column, 4);
 */
export function loadKernels(): Kernels {
  return chooseKernels().kernels;
}

function decide(env: NodeJS.ProcessEnv): KernelsChoice {
  if (env.SLUICE_FORCE_JS === "1") {
    return { kernels: new JsKernels(), reason: "TypeScript kernels (SLUICE_FORCE_JS=1)" };
  }
  try {
    const binding = createRequire(import.meta.url)("@sluice/native") as NativeBinding;
    return { kernels: new NativeKernels(binding), reason: "native kernels (@sluice/native)" };
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return {
      kernels: new JsKernels(),
      reason: `TypeScript kernels (@sluice/native did not load: ${why})`,
    };
  }
}
