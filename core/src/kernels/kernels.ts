/**
 * A column of variable-length keys: `keys` holds the bytes of every row back to back and
 * `offsets` holds `rows + 1` positions into it (row i is `keys[offsets[i]..offsets[i+1]]`).
 */
export interface KeyColumn {
  readonly keys: Uint8Array;
  readonly offsets: Uint32Array;
}

/** Which implementation serves the kernels. */
export type KernelsKind = "native" | "js";

/**
 * A named aggregation over `f64` values. The rules (identical in both engines):
 * `sum` adds in row order from `+0`; `count` counts rows; `min`/`max` follow `Math.min`/`Math.max`
 * (NaN propagates, `-0 < +0`); `mean` is that sum divided by the count.
 */
export type AggregateOp = "sum" | "count" | "min" | "max" | "mean";

/** One row per distinct UTF-8 key, in first-seen order, with its aggregate. */
export interface Utf8Groups {
  readonly keys: KeyColumn;
  readonly values: Float64Array;
}

/** One row per distinct 64-bit integer key, in first-seen order, with its aggregate. */
export interface I64Groups {
  readonly keys: BigInt64Array;
  readonly values: Float64Array;
}

/** Rows grouped by partition: partition p holds rows `permutation[bounds[p]..bounds[p+1]]`. */
export interface ShuffleResult {
  /** Row numbers, partition by partition, in their original order within a partition. */
  readonly permutation: Uint32Array;
  /** `numPartitions + 1` offsets into `permutation`. */
  readonly bounds: Uint32Array;
}

/** A key column made by a parser, with one validity byte per row (1 = found, well formed). */
export interface ParsedColumn extends KeyColumn {
  readonly valid: Uint8Array;
}

/** Numbers made by a parser: one value per row (NaN where invalid) and a validity byte. */
export interface ParsedNumbers {
  readonly values: Float64Array;
  readonly valid: Uint8Array;
}

/**
 * A byte parser whose rows are UTF-8 text, as `countParsed` takes it: `splitLines`,
 * `splitWords`, `csvColumn(index, delimiter = ",")` or `jsonStringField(field)`. (The streams'
 * `ByteParser` minus `jsonNumberField` is one.)
 */
export type TextParser =
  | { readonly kind: "lines" }
  | { readonly kind: "words" }
  | { readonly kind: "csvColumn"; readonly index: number; readonly delimiter?: string }
  | { readonly kind: "jsonStringField"; readonly field: string };

/**
 * A text parser's rows counted across calls: the pieces of one partition (source reads, or
 * strings encoded a piece at a time) one after the other into the same groups. The groups are
 * those of `countParsed` over the pieces' rows as one column: same keys, first-seen order
 * across the pieces, summed counts.
 */
export interface ParsedCounter {
  /** Counts the rows the parser finds in `values`. */
  count(values: KeyColumn): void;
  /**
   * `count` off the main thread where the engine can (the libuv pool). Await each call before
   * the next on the same counter; the inputs must not change until the promise settles.
   */
  countAsync(values: KeyColumn): Promise<void>;
  /**
   * The groups counted, placed into `numPartitions` partitions (default 1) as `countParsed`
   * places them. The counter is done afterwards: any further call throws.
   */
  finish(numPartitions?: number): Utf8Groups[];
}

/** The kind of key a window aggregator holds. */
export type WindowKeyKind = "utf8" | "i64";

/** The key column type of a key kind. */
export type WindowKeys<K extends WindowKeyKind> = K extends "utf8" ? KeyColumn : BigInt64Array;

/** The result type of a key kind. */
export type WindowGroups<K extends WindowKeyKind> = K extends "utf8" ? Utf8Groups : I64Groups;

/** What a window aggregator computes: `op` over windows of `windowMs` sliding by `slideMs`. */
export interface WindowOptions<K extends WindowKeyKind = WindowKeyKind> {
  readonly op: AggregateOp;
  readonly windowMs: number;
  readonly slideMs: number;
  readonly keyKind: K;
  /**
   * Keys split into this many shards by `murmur3(key) % shards` (the shuffles' placement;
   * default 1), which the native engine updates side by side on its threads; `emitPartitioned`
   * with as many partitions hands the shards out as they are. Results never depend on it.
   */
  readonly shards?: number;
}

/**
 * Sliding-window state for one keyed stream, kept in panes of gcd(window, slide) ms across
 * batches. A window ending at `e` covers data with times in `(e - windowMs, e]`.
 */
export interface WindowAggregator<K extends WindowKeyKind = WindowKeyKind> {
  /** The pane length: gcd(windowMs, slideMs). */
  readonly paneMs: number;
  /** Approximate bytes of memory held. */
  readonly memoryBytes: number;
  /** Adds a batch (one value per key; none for `count`) with time `timeMs`. */
  add(timeMs: number, batch: { readonly keys: WindowKeys<K>; readonly values: Float64Array }): void;
  /**
   * Adds the parts of one batch one after the other: what `add` of their concatenation does.
   * The native engine adds parts already placed by key hash (a shuffle's output partitions, as
   * many as the shards) each on its own thread. Every part is checked before any is added.
   */
  addParts(
    timeMs: number,
    parts: ReadonlyArray<{ readonly keys: WindowKeys<K>; readonly values: Float64Array }>,
  ): void;
  /** Drops every pane whose data lies at or before `timeMs`; keys left in no pane are forgotten. */
  evict(timeMs: number): void;
  /**
   * Moves the running window to end at `windowEndMs` without building the result (`emit` does
   * this first); for a slide whose output is not needed.
   */
  advance(windowEndMs: number): void;
  /** The window ending at `windowEndMs` (a multiple of `paneMs`), keys in (re)appearance order. */
  emit(windowEndMs: number): WindowGroups<K>;
  /**
   * `emit`'s groups placed into `numPartitions` partitions by `murmur3(key) % numPartitions`
   * (`partitionOfKey`), each in `emit`'s order.
   */
  emitPartitioned(windowEndMs: number, numPartitions: number): WindowGroups<K>[];
  /** The state as canonical, versioned bytes; both engines write the same bytes. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot of an aggregator with the same options (either engine). */
  restore(bytes: Uint8Array): void;
}

/**
 * The columnar kernels Sluice runs its hot paths on. `NativeKernels` (Rust) and `JsKernels`
 * (TypeScript) implement the same algorithms and give bit-identical results.
 */
export interface Kernels {
  readonly kind: KernelsKind;
  /** MurmurHash3 x86_32 (seed 0) of every key. */
  murmur3Utf8(column: KeyColumn): Uint32Array;
  /** The partition in `0..numPartitions` of every key: `murmur3 % numPartitions`. */
  hashPartitionUtf8(column: KeyColumn, numPartitions: number): Uint32Array;
  /** The partition of every 64-bit integer key (hashed as 8 little-endian bytes). */
  hashPartitionI64(keys: BigInt64Array, numPartitions: number): Uint32Array;
  /** Groups rows by partition id with a stable counting sort. */
  shuffle(partitionIds: Uint32Array, numPartitions: number): ShuffleResult;
  /**
   * UTF-8 keys with their values spread over `numPartitions` partitions by `murmur3(key) %
   * numPartitions`, each partition in the rows' order: what `hashPartitionUtf8`, `shuffle` and
   * gathering the rows give, in one call. `values` holds one value per key, or none (then every
   * partition's values are empty).
   */
  placeRowsUtf8(keys: KeyColumn, values: Float64Array, numPartitions: number): Utf8Groups[];
  /**
   * reduceByKey over UTF-8 keys: one row per distinct key in first-seen order. For `count`,
   * `values` may be empty.
   */
  reduceByKeyUtf8(keys: KeyColumn, values: Float64Array, op: AggregateOp): Utf8Groups;
  /** reduceByKey over 64-bit integer keys, like `reduceByKeyUtf8`. */
  reduceByKeyI64(keys: BigInt64Array, values: Float64Array, op: AggregateOp): I64Groups;
  /**
   * `reduceByKeyUtf8` off the main thread where the engine can (the native kernels run it on
   * the libuv pool). The inputs must not change until the promise settles.
   */
  reduceByKeyUtf8Async(keys: KeyColumn, values: Float64Array, op: AggregateOp): Promise<Utf8Groups>;
  /** `reduceByKeyI64` off the main thread where the engine can. */
  reduceByKeyI64Async(
    keys: BigInt64Array,
    values: Float64Array,
    op: AggregateOp,
  ): Promise<I64Groups>;
  /** Splits every value into lines (`\n`; one `\r` before it dropped; no empty last line). */
  splitLines(values: KeyColumn): KeyColumn;
  /** Splits every value into words separated by ASCII whitespace. */
  splitWords(values: KeyColumn): KeyColumn;
  /** Field `index` (0-based) of every value read as one CSV record (RFC 4180 quoting). */
  csvColumn(values: KeyColumn, index: number, delimiter?: string): ParsedColumn;
  /** The number in top-level member `field` of every value read as a JSON object. */
  jsonNumberField(values: KeyColumn, field: string): ParsedNumbers;
  /** The string in top-level member `field` of every value read as a JSON object. */
  jsonStringField(values: KeyColumn, field: string): ParsedColumn;
  /**
   * Parse + count in one pass: every distinct row `parser` finds in `values` (its valid rows;
   * a record without the CSV field or JSON string gives none) with its count, without building
   * the parsed column. Exactly `reduceByKeyUtf8(valid rows of parser(values), empty, "count")`:
   * same keys, same first-seen order, same counts. The groups are placed into `numPartitions`
   * partitions (default 1: one partition holding every group) by `murmur3(key) %
   * numPartitions`, each in first-seen order — what `hashPartitionUtf8` plus `shuffle` of the
   * groups gives. Grouping bytes is grouping strings only for valid UTF-8: call it on a
   * column that passes `isUtf8Column`.
   */
  countParsed(values: KeyColumn, parser: TextParser, numPartitions?: number): Utf8Groups[];
  /** `countParsed` off the main thread (libuv pool when native); inputs unchanged until settled. */
  countParsedAsync(
    values: KeyColumn,
    parser: TextParser,
    numPartitions?: number,
  ): Promise<Utf8Groups[]>;
  /** A counter of the rows `parser` finds, across calls (see `ParsedCounter`). */
  createParsedCounter(parser: TextParser): ParsedCounter;
  /** `splitLines` off the main thread where the engine can; inputs unchanged until settled. */
  splitLinesAsync(values: KeyColumn): Promise<KeyColumn>;
  /** `splitWords` off the main thread where the engine can. */
  splitWordsAsync(values: KeyColumn): Promise<KeyColumn>;
  /** `csvColumn` off the main thread where the engine can. */
  csvColumnAsync(values: KeyColumn, index: number, delimiter?: string): Promise<ParsedColumn>;
  /** `jsonNumberField` off the main thread where the engine can. */
  jsonNumberFieldAsync(values: KeyColumn, field: string): Promise<ParsedNumbers>;
  /** `jsonStringField` off the main thread where the engine can. */
  jsonStringFieldAsync(values: KeyColumn, field: string): Promise<ParsedColumn>;
  /** Creates window state that lives across batches (see `WindowAggregator`). */
  createWindowAggregator<K extends WindowKeyKind>(options: WindowOptions<K>): WindowAggregator<K>;
}
