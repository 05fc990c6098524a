import { createRequire } from "node:module";
import { sluiceLogger } from "../util/logger.js";
import { JsKernels } from "./js-kernels.js";
import type { Kernels } from "./kernels.js";
import { type NativeBinding, NativeKernels, type NativeKernelsOptions } from "./native-kernels.js";

/** Why the loader chose the kernels it did. */
export interface KernelsChoice {
  readonly kernels: Kernels;
  /** One line for the log: which kernels serve and why. */
  readonly reason: string;
}

/** What the loader reads; every field has a production default. */
export interface ChooseKernelsOptions {
  /** Environment to read `SLUICE_FORCE_JS` (and `SLUICE_LOG_LEVEL`, `NODE_ENV`) from. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the one line about the choice goes; defaults to pino (logger "sluice", info). */
  readonly log?: (message: string) => void;
  /** Loads the addon; defaults to `require("@sluice/native")`. */
  readonly loadBinding?: () => NativeBinding;
  /** Passed to `NativeKernels` (the small-batch threshold). */
  readonly native?: NativeKernelsOptions;
}

/**
 * Decides which kernels serve, without caching or logging: native when `@sluice/native`
 * loads, the TypeScript twin when it does not or when `SLUICE_FORCE_JS=1`.
 *
 * @example
 * decideKernels({ env: { SLUICE_FORCE_JS: "1" } }).kernels.kind; // "js"
 */
export function decideKernels(options: ChooseKernelsOptions = {}): KernelsChoice {
  const env = options.env ?? process.env;
  if (env.SLUICE_FORCE_JS === "1") {
    return { kernels: new JsKernels(), reason: "TypeScript kernels (SLUICE_FORCE_JS=1)" };
  }
  const load =
    options.loadBinding ??
    (() => createRequire(import.meta.url)("@sluice/native") as NativeBinding);
  try {
    const binding = load();
    return {
      kernels: new NativeKernels(binding, options.native),
      reason: "native kernels (@sluice/native)",
    };
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return {
      kernels: new JsKernels(),
      reason: `TypeScript kernels (@sluice/native did not load: ${why})`,
    };
  }
}

/**
 * A chooser that decides once, logs the choice once, and returns the same kernels after.
 *
 * @example
 * const choose = createKernelsChooser();
 * choose({ log: console.info }).kernels;
 */
export function createKernelsChooser(): (options?: ChooseKernelsOptions) => KernelsChoice {
  let cached: KernelsChoice | undefined;
  return (options = {}) => {
    if (cached === undefined) {
      cached = decideKernels(options);
      (options.log ?? defaultLog(options.env ?? process.env))(cached.reason);
    }
    return cached;
  };
}

/** The default log line: pino logger "sluice" at info (silent under tests unless asked). */
function defaultLog(env: NodeJS.ProcessEnv): (message: string) => void {
  const logger = sluiceLogger("info", env);
  return (message) => logger.info({ kernels: message }, `kernels: ${message}`);
}

/**
 * Picks the kernels for this process once (see `decideKernels`) and logs the choice once.
 *
 * @example
 * const { kernels, reason } = chooseKernels();
 */
export const chooseKernels: (options?: ChooseKernelsOptions) => KernelsChoice =
  createKernelsChooser();
