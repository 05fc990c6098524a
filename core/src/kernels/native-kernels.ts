import type * as NativeModule from "@sluice/native";
import { SluiceError, type SluiceErrorCode } from "../errors/sluice-error.js";
import { checkAggregateOp } from "./aggregate-op.js";
import { checkNumPartitions } from "./check-num-partitions.js";
import { unknownParser } from "./js-count-parsed.js";
import { JsKernels } from "./js-kernels.js";
import { checkCsvArguments } from "./js-parsers.js";
import type {
  AggregateOp,
  I64Groups,
  Kernels,
  KeyColumn,
  ParsedColumn,
  ParsedCounter,
  ParsedNumbers,
  ShuffleResult,
  TextParser,
  Utf8Groups,
  WindowAggregator,
  WindowKeyKind,
  WindowOptions,
} from "./kernels.js";
import { NativeParsedCounter } from "./native-parsed-counter.js";
import { NativeWindowAggregator } from "./native-window-aggregator.js";

/** The functions the generated `@sluice/native` loader exports. */
export type NativeBinding = typeof NativeModule;

/** How `NativeKernels` splits work between the addon and the TypeScript twin. */
export interface NativeKernelsOptions {
  /**
   * Batches with fewer rows than this run in the TypeScript twin, which has no call overhead
   * and gives the same results. 0 sends every batch to the addon.
   */
  readonly jsBelowRows?: number;
}

/**
 * Below this many rows a reduceByKey batch goes to the TypeScript twin: `npm run bench` found
 * the twin as fast or faster for 64-bit keys under 64 rows (docs/BENCHMARKS.md), where the
 * addon's fixed cost per call (output arrays, the result object) outweighs its speed per row.
 */
export const DEFAULT_JS_BELOW_ROWS = 64;

const NATIVE_CODES: ReadonlySet<string> = new Set<SluiceErrorCode>([
  "SLUICE_NATIVE_INVALID_OFFSETS",
  "SLUICE_NATIVE_INVALID_ARGUMENT",
  "SLUICE_NATIVE_INVALID_SNAPSHOT",
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
  private readonly twin = new JsKernels();
  private readonly jsBelowRows: number;

  constructor(
    private readonly binding: NativeBinding,
    options: NativeKernelsOptions = {},
  ) {
    this.jsBelowRows = options.jsBelowRows ?? DEFAULT_JS_BELOW_ROWS;
  }

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

  shuffle(partitionIds: Uint32Array, numPartitions: number): ShuffleResult {
    checkNumPartitions(numPartitions);
    return callNative(() => this.binding.shuffle(partitionIds, numPartitions));
  }

  placeRowsUtf8(keys: KeyColumn, values: Float64Array, numPartitions: number): Utf8Groups[] {
    checkNumPartitions(numPartitions);
    const parts = callNative(() =>
      this.binding.placeRowsUtf8(keys.keys, keys.offsets, values, numPartitions),
    );
    return parts.map(toUtf8Groups);
  }

  reduceByKeyUtf8(keys: KeyColumn, values: Float64Array, op: AggregateOp): Utf8Groups {
    if (keys.offsets.length - 1 < this.jsBelowRows)
      return this.twin.reduceByKeyUtf8(keys, values, op);
    checkAggregateOp(op);
    const groups = callNative(() =>
      this.binding.reduceByKeyUtf8(keys.keys, keys.offsets, values, op),
    );
    return { keys: { keys: groups.keys, offsets: groups.offsets }, values: groups.values };
  }

  reduceByKeyI64(keys: BigInt64Array, values: Float64Array, op: AggregateOp): I64Groups {
    if (keys.length < this.jsBelowRows) return this.twin.reduceByKeyI64(keys, values, op);
    checkAggregateOp(op);
    return callNative(() => this.binding.reduceByKeyI64(keys, values, op));
  }

  async reduceByKeyUtf8Async(
    keys: KeyColumn,
    values: Float64Array,
    op: AggregateOp,
  ): Promise<Utf8Groups> {
    if (keys.offsets.length - 1 < this.jsBelowRows)
      return this.twin.reduceByKeyUtf8(keys, values, op);
    checkAggregateOp(op);
    const groups = await callNativeAsync(() =>
      this.binding.reduceByKeyUtf8Async(keys.keys, keys.offsets, values, op),
    );
    return { keys: { keys: groups.keys, offsets: groups.offsets }, values: groups.values };
  }

  async reduceByKeyI64Async(
    keys: BigInt64Array,
    values: Float64Array,
    op: AggregateOp,
  ): Promise<I64Groups> {
    if (keys.length < this.jsBelowRows) return this.twin.reduceByKeyI64(keys, values, op);
    checkAggregateOp(op);
    return callNativeAsync(() => this.binding.reduceByKeyI64Async(keys, values, op));
  }

  splitLines(values: KeyColumn): KeyColumn {
    return callNative(() => this.binding.splitLines(values.keys, values.offsets));
  }

  splitWords(values: KeyColumn): KeyColumn {
    return callNative(() => this.binding.splitWords(values.keys, values.offsets));
  }

  csvColumn(values: KeyColumn, index: number, delimiter = ","): ParsedColumn {
    const byte = checkCsvArguments(index, delimiter);
    return callNative(() => this.binding.csvColumn(values.keys, values.offsets, index, byte));
  }

  jsonNumberField(values: KeyColumn, field: string): ParsedNumbers {
    return callNative(() => this.binding.jsonNumberField(values.keys, values.offsets, field));
  }

  jsonStringField(values: KeyColumn, field: string): ParsedColumn {
    return callNative(() => this.binding.jsonStringField(values.keys, values.offsets, field));
  }

  countParsed(values: KeyColumn, parser: TextParser, numPartitions = 1): Utf8Groups[] {
    const spec = parserSpec(parser);
    checkNumPartitions(numPartitions);
    const parts = callNative(() =>
      this.binding.countParsed(values.keys, values.offsets, spec, numPartitions),
    );
    return parts.map(toUtf8Groups);
  }

  async countParsedAsync(
    values: KeyColumn,
    parser: TextParser,
    numPartitions = 1,
  ): Promise<Utf8Groups[]> {
    const spec = parserSpec(parser);
    checkNumPartitions(numPartitions);
    const parts = await callNativeAsync(() =>
      this.binding.countParsedAsync(values.keys, values.offsets, spec, numPartitions),
    );
    return parts.map(toUtf8Groups);
  }

  createParsedCounter(parser: TextParser): ParsedCounter {
    return new NativeParsedCounter(this.binding.ParsedCounter, parserSpec(parser));
  }

  async splitLinesAsync(values: KeyColumn): Promise<KeyColumn> {
    const parsed = await callNativeAsync(() =>
      this.binding.splitLinesAsync(values.keys, values.offsets),
    );
    return { keys: parsed.keys, offsets: parsed.offsets };
  }

  async splitWordsAsync(values: KeyColumn): Promise<KeyColumn> {
    const parsed = await callNativeAsync(() =>
      this.binding.splitWordsAsync(values.keys, values.offsets),
    );
    return { keys: parsed.keys, offsets: parsed.offsets };
  }

  async csvColumnAsync(values: KeyColumn, index: number, delimiter = ","): Promise<ParsedColumn> {
    const byte = checkCsvArguments(index, delimiter);
    return callNativeAsync(() =>
      this.binding.csvColumnAsync(values.keys, values.offsets, index, byte),
    );
  }

  async jsonNumberFieldAsync(values: KeyColumn, field: string): Promise<ParsedNumbers> {
    return callNativeAsync(() =>
      this.binding.jsonNumberFieldAsync(values.keys, values.offsets, field),
    );
  }

  async jsonStringFieldAsync(values: KeyColumn, field: string): Promise<ParsedColumn> {
    return callNativeAsync(() =>
      this.binding.jsonStringFieldAsync(values.keys, values.offsets, field),
    );
  }

  createWindowAggregator<K extends WindowKeyKind>(options: WindowOptions<K>): WindowAggregator<K> {
    return new NativeWindowAggregator(this.binding.WindowAggregator, options);
  }
}

type NativeTextParser = Parameters<NativeBinding["countParsed"]>[2];

/** The binding's description of a parser, its arguments checked as the twin checks them. */
function parserSpec(parser: TextParser): NativeTextParser {
  switch (parser.kind) {
    case "lines":
    case "words":
      return { kind: parser.kind };
    case "csvColumn":
      return {
        kind: "csvColumn",
        index: parser.index,
        delimiter: checkCsvArguments(parser.index, parser.delimiter ?? ","),
      };
    case "jsonStringField":
      return { kind: "jsonStringField", field: parser.field };
    default:
      throw unknownParser(parser);
  }
}

function toUtf8Groups(groups: {
  keys: Uint8Array;
  offsets: Uint32Array;
  values: Float64Array;
}): Utf8Groups {
  return { keys: { keys: groups.keys, offsets: groups.offsets }, values: groups.values };
}

/** Runs a native call, rethrowing its error as a `SluiceError` with the same stable code. */
export function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toSluiceError(error);
  }
}

/** Awaits a native async call, rethrowing its error as a `SluiceError` with the same code. */
export async function callNativeAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toSluiceError(error);
  }
}

function toSluiceError(error: unknown): SluiceError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string" && NATIVE_CODES.has(code)) {
    return new SluiceError(code as SluiceErrorCode, message, { cause: error });
  }
  return new SluiceError("SLUICE_NATIVE_PANIC", `native kernel failed: ${message}`, {
    cause: error,
  });
}
