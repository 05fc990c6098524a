import { SluiceError } from "../errors/sluice-error.js";
import { ByteKeyDictionary, grow } from "./byte-key-dictionary.js";
import { checkNumPartitions } from "./check-num-partitions.js";
import { ColumnBuilder } from "./column-builder.js";
import {
  checkCsvArguments,
  csvRecordField,
  indexOfIn,
  jsonStringMember,
  WHITESPACE,
} from "./js-parsers.js";
import type { KeyColumn, ParsedCounter, TextParser, Utf8Groups } from "./kernels.js";
import { validateKeyColumn } from "./key-column.js";
import { murmur3 } from "./murmur3.js";

const NL = 0x0a;
const CR = 0x0d;

/** Counts of distinct byte keys in first-seen order (a dictionary plus a count per id). */
class Counter {
  readonly dictionary: ByteKeyDictionary;
  counts: Float64Array;

  constructor(capacity: number) {
    this.dictionary = new ByteKeyDictionary(capacity);
    this.counts = new Float64Array(Math.max(capacity, 16));
  }

  add(bytes: Uint8Array, start: number, end: number): void {
    const before = this.dictionary.size;
    const id = this.dictionary.intern(bytes, start, end);
    if (id === before) {
      if (id >= this.counts.length) this.counts = grow(this.counts, id + 1);
      this.counts[id] = 1;
    } else {
      this.counts[id] = (this.counts[id] as number) + 1;
    }
  }

  finish(): Utf8Groups {
    const { dictionary } = this;
    return {
      keys: {
        keys: dictionary.blob.slice(0, dictionary.byteLength),
        offsets: dictionary.offsets.slice(0, dictionary.size + 1),
      },
      values: this.counts.slice(0, dictionary.size),
    };
  }
}

const encoder = new TextEncoder();

/**
 * Parses every value with `parser` and counts each distinct row it finds (its valid rows), in
 * one pass without building the parsed column: the twin of the engine's `count_parsed`. The
 * groups come in first-seen order, placed into `numPartitions` partitions by
 * `murmur3 % numPartitions` (what `hashPartitionUtf8` plus a stable `shuffle` would give).
 *
 * @example
 * countParsedJs(keyColumnFromStrings(["a b a"]), { kind: "words" }, 1); // [{ a: 2, b: 1 }]
 */
export function countParsedJs(
  values: KeyColumn,
  parser: TextParser,
  numPartitions = 1,
): Utf8Groups[] {
  validateKeyColumn(values);
  checkNumPartitions(numPartitions);
  const counter = new Counter(Math.min(values.offsets.length - 1, 1 << 12));
  countInto(counter, values, parser, checkParser(parser));
  const groups = counter.finish();
  return numPartitions === 1 ? [groups] : placeGroups(groups, numPartitions);
}

/**
 * A text parser's rows counted across calls, one piece of a partition after the other: the
 * twin of the engine's `ParsedCounter`. The groups of the pieces counted one after the other
 * are those of `countParsedJs` over their rows as one column.
 *
 * @example
 * const counter = new JsParsedCounter({ kind: "words" });
 * counter.count(keyColumnFromStrings(["a b"]));
 * counter.count(keyColumnFromStrings(["b"]));
 * counter.finish(1); // [{ a: 1, b: 2 }]
 */
export class JsParsedCounter implements ParsedCounter {
  private counter: Counter | undefined = new Counter(1 << 12);
  private readonly delimiter: number;

  constructor(private readonly parser: TextParser) {
    this.delimiter = checkParser(parser);
  }

  count(values: KeyColumn): void {
    validateKeyColumn(values);
    countInto(this.live(), values, this.parser, this.delimiter);
  }

  async countAsync(values: KeyColumn): Promise<void> {
    this.count(values);
  }

  finish(numPartitions = 1): Utf8Groups[] {
    checkNumPartitions(numPartitions);
    const groups = this.live().finish();
    this.counter = undefined;
    return numPartitions === 1 ? [groups] : placeGroups(groups, numPartitions);
  }

  private live(): Counter {
    if (this.counter === undefined) throw finishedCounter();
    return this.counter;
  }
}

/**
 * The error for a counter used after `finish`, with the native kernels' code.
 *
 * @example
 * throw finishedCounter();
 */
export function finishedCounter(): SluiceError {
  return new SluiceError(
    "SLUICE_NATIVE_INVALID_ARGUMENT",
    "invalid argument `counter`: this counter was finished; create a new one",
  );
}

/** Checks a parser's arguments as the engine does; the CSV delimiter byte (0 otherwise). */
function checkParser(parser: TextParser): number {
  switch (parser.kind) {
    case "lines":
    case "words":
    case "jsonStringField":
      return 0;
    case "csvColumn":
      return checkCsvArguments(parser.index, parser.delimiter ?? ",");
    default:
      throw unknownParser(parser);
  }
}

/** Adds the rows `parser` finds in `values` to `counter`. */
function countInto(
  counter: Counter,
  values: KeyColumn,
  parser: TextParser,
  delimiter: number,
): void {
  const { keys, offsets } = values;
  const rows = offsets.length - 1;
  switch (parser.kind) {
    case "lines":
      for (let row = 0; row < rows; row++) {
        const end = offsets[row + 1] as number;
        let start = offsets[row] as number;
        while (start < end) {
          const at = indexOfIn(keys, NL, start, end);
          counter.add(keys, start, at > start && keys[at - 1] === CR ? at - 1 : at);
          start = at + 1;
        }
      }
      break;
    case "words":
      for (let row = 0; row < rows; row++) {
        const end = offsets[row + 1] as number;
        let i = offsets[row] as number;
        while (i < end) {
          while (i < end && WHITESPACE[keys[i] as number] === 1) i++;
          const start = i;
          while (i < end && WHITESPACE[keys[i] as number] === 0) i++;
          if (i > start) counter.add(keys, start, i);
        }
      }
      break;
    case "csvColumn": {
      const scratch = new ColumnBuilder(1, 64);
      for (let row = 0; row < rows; row++) {
        scratch.truncate(0);
        const start = offsets[row] as number;
        const end = offsets[row + 1] as number;
        if (csvRecordField(keys, start, end, parser.index, delimiter, scratch)) {
          counter.add(scratch.bytes, 0, scratch.byteLength);
        }
      }
      break;
    }
    case "jsonStringField": {
      const name = encoder.encode(parser.field);
      const names = new ColumnBuilder(1, 64);
      const scratch = new ColumnBuilder(1, 64);
      for (let row = 0; row < rows; row++) {
        scratch.truncate(0);
        const start = offsets[row] as number;
        const end = offsets[row + 1] as number;
        if (jsonStringMember(keys, start, end, name, names, scratch)) {
          counter.add(scratch.bytes, 0, scratch.byteLength);
        }
      }
      break;
    }
    default:
      throw unknownParser(parser);
  }
}

/**
 * The error for a parser of no known kind, with the native kernels' code.
 *
 * @example
 * throw unknownParser({ kind: "json" } as never);
 */
export function unknownParser(parser: never): SluiceError {
  return new SluiceError(
    "SLUICE_NATIVE_INVALID_ARGUMENT",
    `invalid argument \`parser\`: kind must be lines, words, csvColumn or jsonStringField; got ${String((parser as { kind?: unknown }).kind)}`,
  );
}

/**
 * Splits groups into partitions by `murmur3(key) % numPartitions`, keeping their order.
 *
 * @example
 * placeGroups(groups, 2); // [groups of partition 0, groups of partition 1]
 */
export function placeGroups(groups: Utf8Groups, numPartitions: number): Utf8Groups[] {
  return placeRowsUtf8Js(groups.keys, groups.values, numPartitions);
}

/**
 * Keys with their values (one per key, or none) spread over partitions by `murmur3(key) %
 * numPartitions`, each in the rows' order: the twin of the engine's `place_rows_bytes`.
 *
 * @example
 * placeRowsUtf8Js(keyColumnFromStrings(["a", "b"]), Float64Array.of(1, 2), 2);
 */
export function placeRowsUtf8Js(
  column: KeyColumn,
  values: Float64Array,
  numPartitions: number,
): Utf8Groups[] {
  checkNumPartitions(numPartitions);
  validateKeyColumn(column);
  const { keys, offsets } = column;
  const rows = offsets.length - 1;
  if (values.length !== 0 && values.length !== rows) {
    throw new SluiceError(
      "SLUICE_NATIVE_INVALID_ARGUMENT",
      `invalid argument \`values\`: holds ${values.length} entries for ${rows} keys (give one per key, or none)`,
    );
  }
  const withValues = values.length !== 0;
  const partitionOf = new Uint32Array(rows);
  const rowsIn = new Uint32Array(numPartitions);
  const bytesIn = new Float64Array(numPartitions);
  for (let row = 0; row < rows; row++) {
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    const p = murmur3(keys, start, end) % numPartitions;
    partitionOf[row] = p;
    rowsIn[p] = (rowsIn[p] as number) + 1;
    bytesIn[p] = (bytesIn[p] as number) + end - start;
  }
  const parts = Array.from({ length: numPartitions }, (_, p) => ({
    keys: new Uint8Array(bytesIn[p] as number),
    offsets: new Uint32Array((rowsIn[p] as number) + 1),
    values: new Float64Array(withValues ? (rowsIn[p] as number) : 0),
    rows: 0,
    bytes: 0,
  }));
  for (let row = 0; row < rows; row++) {
    const part = parts[partitionOf[row] as number] as (typeof parts)[number];
    const start = offsets[row] as number;
    const end = offsets[row + 1] as number;
    part.keys.set(keys.subarray(start, end), part.bytes);
    part.bytes += end - start;
    if (withValues) part.values[part.rows] = values[row] as number;
    part.offsets[++part.rows] = part.bytes;
  }
  return parts.map((part) => ({
    keys: { keys: part.keys, offsets: part.offsets },
    values: part.values,
  }));
}
