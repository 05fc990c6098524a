import type * as NativeModule from "@sluice/native";
import { SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
import { checkNumPartitions } from "./js-kernels.js";
import type { Kernels, KeyColumn } from "./kernels.js";

/** The functions the generated `@sluice/native` loader exports. */
export type NativeBinding = typeof NativeModule;

const NATIVE_CODES: ReadonlySet<string> = new Set<SluiceErrorCode>([
  "SLUICE_NATIVE_INVALID_OFFSETS",
  "SLUICE_NATIVE_INVALID_ARGUMENT",
]);

/**
 * The Rust kernels behind the `Kernels` interface. Arguments are checked the same way as in
 * `JsKernels`, and native errors come back as `SluiceError`s with the same codes.
 *
 * @example
 * const kernels = new NativeKernels(binding);
 * kernels.hashPartitionUtf8(keyColumnFromStrings(["a"]), 8);
 */
export class NativeKernels implements Kernels {
  readonly kind = "native" as const;

  constructor(private readonly binding: NativeBinding) {}

  murmur3Utf8(column: KeyColumn): Uint32Array {
    return callNative(() => this.binding.murmur3Utf8(column.keys, column.offsets));
  }

  hashPartitionUtf8(column: KeyColumn, numPartitions: number): Uint32Array {
    checkNumPartitions(numPartitions);
    return callNative(() =>
      this.binding.hashPartitionUtf8(column.keys, column.offsets, numPartitions),
    );
  }

  hashPartitionI64(keys: BigInt64Array, numPartitions: number): Uint32Array {
    checkNumPartitions(numPartitions);
    return callNative(() => this.binding.hashPartitionI64(keys, numPartitions));
  }
}

function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (typeof code === "string" && NATIVE_CODES.has(code)) {
      throw new SluiceError(code as SluiceErrorCode, message, { cause: error });
    }
    throw new SluiceError("SLUICE_NATIVE_PANIC", `native kernel failed: ${message}`, {
      cause: error,
    });
  }
}
