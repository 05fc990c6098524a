import { createRequire } from "node:module";
import type { NativeBinding } from "sluice/advanced";

/**
 * Loads the built addon for tests that must exercise it. Fails loudly (never skips) when the
 * addon was not built: run `npm run build` first.
 */
export function requireNativeBinding(): NativeBinding {
  try {
    return createRequire(import.meta.url)("@sluice/native") as NativeBinding;
  } catch (error) {
    throw new Error("@sluice/native did not load; build it with `npm run build`", {
      cause: error,
    });
  }
}
