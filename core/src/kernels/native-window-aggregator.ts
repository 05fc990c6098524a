import type { WindowAggregator as NativeWindowState } from "@sluice/native";
import { SluiceError } from "../errors/sluice-error.js";
import { checkNumPartitions } from "./check-num-partitions.js";
import type {
  KeyColumn,
  WindowAggregator,
  WindowGroups,
  WindowKeyKind,
  WindowKeys,
  WindowOptions,
} from "./kernels.js";
import { callNative } from "./native-kernels.js";
import { checkTime, checkWindowOptions } from "./window-options.js";
import { checkShards } from "./window-shards.js";

/** The binding's window class, as the generated `.d.ts` types it. */
export type NativeWindowClass = new (
  ...args: ConstructorParameters<typeof NativeWindowState>
) => NativeWindowState;

/**
 * The Rust window aggregator behind the `WindowAggregator` interface: arguments checked as in
 * the TypeScript twin, errors rethrown as `SluiceError`s with the same codes.
 *
 * @example
 * const window = new NativeWindowAggregator(binding.WindowAggregator, { op: "sum", windowMs: 3000, slideMs: 1000, keyKind: "i64" });
 */
export class NativeWindowAggregator<K extends WindowKeyKind> implements WindowAggregator<K> {
  readonly paneMs: number;
  private readonly state: NativeWindowState;

  constructor(
    Native: NativeWindowClass,
    private readonly options: WindowOptions<K>,
  ) {
    checkWindowOptions(options);
    checkShards(options.shards);
    const { op, windowMs, slideMs, keyKind, shards } = options;
    this.state = callNative(() => new Native(op, windowMs, slideMs, keyKind, shards ?? 1));
    this.paneMs = this.state.paneMs;
  }

  get memoryBytes(): number {
    return this.state.memoryBytes;
  }

  add(
    timeMs: number,
    batch: { readonly keys: WindowKeys<K>; readonly values: Float64Array },
  ): void {
    checkTime("timeMs", timeMs);
    const { keys, values } = batch;
    if (keys instanceof BigInt64Array) {
      checkKind(this.options.keyKind, "i64");
      callNative(() => this.state.addI64(timeMs, keys, values));
    } else {
      checkKind(this.options.keyKind, "utf8");
      const column = keys as KeyColumn;
      callNative(() => this.state.addUtf8(timeMs, column.keys, column.offsets, values));
    }
  }

  addParts(
    timeMs: number,
    parts: ReadonlyArray<{ readonly keys: WindowKeys<K>; readonly values: Float64Array }>,
  ): void {
    checkTime("timeMs", timeMs);
    const values = parts.map((part) => part.values);
    if (this.options.keyKind === "i64") {
      const keys = parts.map((part) => {
        if (!(part.keys instanceof BigInt64Array)) checkKind("i64", "utf8");
        return part.keys as BigInt64Array;
      });
      callNative(() => this.state.addI64Parts(timeMs, keys, values));
    } else {
      const columns = parts.map((part) => {
        if (part.keys instanceof BigInt64Array) checkKind("utf8", "i64");
        return part.keys as KeyColumn;
      });
      const keys = columns.map((column) => column.keys);
      const offsets = columns.map((column) => column.offsets);
      callNative(() => this.state.addUtf8Parts(timeMs, keys, offsets, values));
    }
  }

  evict(timeMs: number): void {
    checkTime("timeMs", timeMs);
    callNative(() => this.state.evict(timeMs));
  }

  advance(windowEndMs: number): void {
    checkTime("windowEndMs", windowEndMs);
    callNative(() => this.state.advance(windowEndMs));
  }

  emit(windowEndMs: number): WindowGroups<K> {
    checkTime("windowEndMs", windowEndMs);
    if (this.options.keyKind === "i64") {
      return callNative(() => this.state.emitI64(windowEndMs)) as WindowGroups<K>;
    }
    const groups = callNative(() => this.state.emitUtf8(windowEndMs));
    return {
      keys: { keys: groups.keys, offsets: groups.offsets },
      values: groups.values,
    } as WindowGroups<K>;
  }

  emitPartitioned(windowEndMs: number, numPartitions: number): WindowGroups<K>[] {
    checkTime("windowEndMs", windowEndMs);
    checkNumPartitions(numPartitions);
    if (this.options.keyKind === "i64") {
      return callNative(() =>
        this.state.emitI64Partitioned(windowEndMs, numPartitions),
      ) as WindowGroups<K>[];
    }
    const parts = callNative(() => this.state.emitUtf8Partitioned(windowEndMs, numPartitions));
    return parts.map((groups) => ({
      keys: { keys: groups.keys, offsets: groups.offsets },
      values: groups.values,
    })) as WindowGroups<K>[];
  }

  snapshot(): Uint8Array {
    return callNative(() => this.state.snapshot());
  }

  restore(bytes: Uint8Array): void {
    callNative(() => this.state.restore(bytes));
  }
}

function checkKind(held: WindowKeyKind, given: WindowKeyKind): void {
  if (held !== given) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`keys\`: this window aggregator holds ${held} keys, not ${given} keys`,
    );
  }
}
