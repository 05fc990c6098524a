import { checkNumPartitions } from "./check-num-partitions.js";
import { countParsedJs, JsParsedCounter, placeRowsUtf8Js } from "./js-count-parsed.js";
import {
  csvColumnJs,
  jsonNumberFieldJs,
  jsonStringFieldJs,
  splitLinesJs,
  splitWordsJs,
} from "./js-parsers.js";
import { reduceByKeyI64Js, reduceByKeyUtf8Js } from "./js-reduce-by-key.js";
import { shuffleJs } from "./js-shuffle.js";
import { JsWindowAggregator } from "./js-window-aggregator.js";
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
import { validateKeyColumn } from "./key-column.js";
import { murmur3 } from "./murmur3.js";

/**
 * The pure-TypeScript kernels: the fallback where no native binary loads, and the oracle the
 * native kernels are tested against.
 *
 * @example
 * new JsKernels().hashPartitionUtf8(keyColumnFromStrings(["a", "b"]), 4);
 */
export class JsKernels implements Kernels {
  readonly kind = "js" as const;

  murmur3Utf8(column: KeyColumn): Uint32Array {
    validateKeyColumn(column);
    const { keys, offsets } = column;
    const out = new Uint32Array(offsets.length - 1);
    for (let row = 0; row < out.length; row++) {
      out[row] = murmur3(keys, offsets[row] as number, offsets[row + 1] as number);
    }
    return out;
  }

  hashPartitionUtf8(column: KeyColumn, numPartitions: number): Uint32Array {
    checkNumPartitions(numPartitions);
    const hashes = this.murmur3Utf8(column);
    for (let row = 0; row < hashes.length; row++) {
      hashes[row] = (hashes[row] as number) % numPartitions;
    }
    return hashes;
  }

  hashPartitionI64(keys: BigInt64Array, numPartitions: number): Uint32Array {
    checkNumPartitions(numPartitions);
    const bytes = new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
    const out = new Uint32Array(keys.length);
    // BigInt64Array stores keys in platform order; every supported platform is little-endian,
    // which is the byte order the Rust kernel hashes.
    for (let row = 0; row < keys.length; row++) {
      out[row] = murmur3(bytes, row * 8, row * 8 + 8) % numPartitions;
    }
    return out;
  }

  shuffle(partitionIds: Uint32Array, numPartitions: number): ShuffleResult {
    checkNumPartitions(numPartitions);
    return shuffleJs(partitionIds, numPartitions);
  }

  placeRowsUtf8(keys: KeyColumn, values: Float64Array, numPartitions: number): Utf8Groups[] {
    return placeRowsUtf8Js(keys, values, numPartitions);
  }

  reduceByKeyUtf8(keys: KeyColumn, values: Float64Array, op: AggregateOp): Utf8Groups {
    return reduceByKeyUtf8Js(keys, values, op);
  }

  reduceByKeyI64(keys: BigInt64Array, values: Float64Array, op: AggregateOp): I64Groups {
    return reduceByKeyI64Js(keys, values, op);
  }

  async reduceByKeyUtf8Async(
    keys: KeyColumn,
    values: Float64Array,
    op: AggregateOp,
  ): Promise<Utf8Groups> {
    return reduceByKeyUtf8Js(keys, values, op);
  }

  async reduceByKeyI64Async(
    keys: BigInt64Array,
    values: Float64Array,
    op: AggregateOp,
  ): Promise<I64Groups> {
    return reduceByKeyI64Js(keys, values, op);
  }

  splitLines(values: KeyColumn): KeyColumn {
    return splitLinesJs(values);
  }

  splitWords(values: KeyColumn): KeyColumn {
    return splitWordsJs(values);
  }

  csvColumn(values: KeyColumn, index: number, delimiter = ","): ParsedColumn {
    return csvColumnJs(values, index, delimiter);
  }

  jsonNumberField(values: KeyColumn, field: string): ParsedNumbers {
    return jsonNumberFieldJs(values, field);
  }

  jsonStringField(values: KeyColumn, field: string): ParsedColumn {
    return jsonStringFieldJs(values, field);
  }

  countParsed(values: KeyColumn, parser: TextParser, numPartitions = 1): Utf8Groups[] {
    return countParsedJs(values, parser, numPartitions);
  }

  // The async variants run synchronously and resolve: the twin has no thread pool.
  async countParsedAsync(
    values: KeyColumn,
    parser: TextParser,
    numPartitions = 1,
  ): Promise<Utf8Groups[]> {
    return countParsedJs(values, parser, numPartitions);
  }

  createParsedCounter(parser: TextParser): ParsedCounter {
    return new JsParsedCounter(parser);
  }

  async splitLinesAsync(values: KeyColumn): Promise<KeyColumn> {
    return splitLinesJs(values);
  }

  async splitWordsAsync(values: KeyColumn): Promise<KeyColumn> {
    return splitWordsJs(values);
  }

  async csvColumnAsync(values: KeyColumn, index: number, delimiter = ","): Promise<ParsedColumn> {
    return csvColumnJs(values, index, delimiter);
  }

  async jsonNumberFieldAsync(values: KeyColumn, field: string): Promise<ParsedNumbers> {
    return jsonNumberFieldJs(values, field);
  }

  async jsonStringFieldAsync(values: KeyColumn, field: string): Promise<ParsedColumn> {
    return jsonStringFieldJs(values, field);
  }

  createWindowAggregator<K extends WindowKeyKind>(options: WindowOptions<K>): WindowAggregator<K> {
    return new JsWindowAggregator(options);
  }
}
