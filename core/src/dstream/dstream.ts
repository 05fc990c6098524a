import type { SinkPlugin } from "../connector/plugin.js";
import { SluiceError } from "../errors/sluice-error.js";
import { checkPartitionCount } from "../util/check-partitions.js";
import { type Duration, parseDuration } from "../util/duration.js";
import { formatRecord } from "../util/format-record.js";
import { type Batch, batchRecords, batchSize } from "./batch.js";
import { type ByteParser, checkByteParser, type TextRecord } from "./byte-parser.js";
import type { ColumnsFunction } from "./column-mapped-dstream.js";
import { ColumnarBatch } from "./columnar-batch.js";
import type { MapWithStateDStream } from "./map-with-state-dstream.js";
import { isNamedReduction, type NamedReduction } from "./named-reductions.js";
import { type NamedWindowOptions, namedWindow } from "./named-window-options.js";
import { guardRecords, SKIPPED_RECORD } from "./record-guard.js";
import { saveBatchAsObjects } from "./save-as-objects.js";
import { saveBatchAsText } from "./save-as-text.js";
import type { SinkInput, SinkOutputOptions } from "./sink-options.js";
import type { StateSpec } from "./state.js";
import type { StreamOwner, StreamScope } from "./stream-scope.js";

/**
 * What a `transform` function may return: the records of the new batch (cut into the context's
 * default number of partitions), or partitions of its own.
 */
export type { NamedWindowOptions };

export type TransformResult<U> =
  | ReadonlyArray<U>
  | { readonly partitions: ReadonlyArray<ReadonlyArray<U>> };

/** Options of `reduceByKeyAndWindow`. */
export interface ReduceByKeyAndWindowOptions<K, V> {
  /** Width of the window: a multiple of the stream's slide duration. */
  readonly window: Duration;
  /** How often a window is emitted (default: the stream's slide duration). */
  readonly slide?: Duration;
  /**
   * Undoes `reduce` (`inverse(reduce(a, b), b) === a`): the window is then computed
   * incrementally from the previous one, adding what enters and removing what leaves. Keys whose
   * value falls back to the identity stay (with that value) unless `filter` drops them.
   */
  inverse?(a: V, b: V): V;
  /** Keeps only the pairs for which it returns true (Spark applies it with `inverse`). */
  filter?(pair: [K, V]): boolean;
  /** Partitions of the result (default: the context's default parallelism). */
  readonly numPartitions?: number;
}

/** Options of `reduceByWindow`. */
export interface ReduceByWindowOptions<T> {
  /** Width of the window: a multiple of the stream's slide duration. */
  readonly window: Duration;
  /** How often a window is emitted (default: the stream's slide duration). */
  readonly slide?: Duration;
  /** Undoes `reduce`, for an incremental window (see `reduceByKeyAndWindow`). */
  inverse?(a: T, b: T): T;
}

/** Options of `updateStateByKey`. */
export interface UpdateStateOptions<K, S> {
  /** State every key starts with, before the first batch. */
  readonly initialState?: Iterable<readonly [K, S]>;
  /** Partitions of the state (default: the context's default parallelism). */
  readonly numPartitions?: number;
}

/** What `updateStateByKey`'s function learns besides the values and the state. */
export interface UpdateStateInfo<K> {
  /** The batch time. */
  readonly time: number;
  /** The key being updated. */
  readonly key: K;
}

/**
 * A discretized stream: a sequence of batches, one per slide interval, each computed from the
 * batches of its parents at the same time. Spark's `DStream`, with Spark's operations and
 * results. Operations on `[key, value]` pairs are available directly on streams of pairs.
 *
 * @example
 * const counts = ctx
 *   .socketTextStream("localhost", 9999)
 *   .flatMap((line) => line.split(" "))
 *   .map((word) => [word, 1])
 *   .reduceByKey("sum");
 * counts.print();
 */
export abstract class DStream<T> {
  /** What every stream of this stream's context shares (clock, kernels, graph, ...). */
  readonly scope: StreamScope;
  /** The stream's id in its context (order of creation). */
  readonly id: number;
  private readonly generated = new Map<number, Promise<Batch<T> | undefined>>();
  private zero: number | undefined;
  private remembered: number | undefined;
  // What `ctx.remember` asked of every stream of the graph (for `slice`): passed to all parents.
  private rememberedEverywhere: number | undefined;
  // True once `remember` asked the parents (see `remember`).
  private rememberAsked = false;
  private givenName: string | undefined;
  private checkpointEvery: number | undefined;
  private feed: ((time: number) => Batch<T> | undefined) | undefined;
  /** `countByValue`'s `[record, 1]` pairs, made once so that every count reads one stream. */
  private pairedWithOne: DStream<[T, number]> | undefined;

  protected constructor(scope: StreamScope) {
    scope.assertCanAddOperations();
    this.scope = scope;
    this.id = scope.registerStream(this);
  }

  /** The context this stream belongs to (Spark's `DStream.context`). */
  get context(): StreamOwner {
    return this.scope.context;
  }

  /** The interval at which this stream produces batches. */
  abstract get slideDuration(): number;

  /** The streams this one is computed from. */
  abstract get dependencies(): ReadonlyArray<DStream<unknown>>;

  /**
   * Computes the batch at `time` (a valid time for this stream), or `undefined` for no batch
   * (Spark's `None`). Called at most once per time; use `getOrCompute` to read parents.
   */
  protected abstract compute(time: number): Promise<Batch<T> | undefined>;

  /** A name for messages: the operator class, such as `MappedDStream`. */
  get operatorName(): string {
    return this.constructor.name;
  }

  /** The name given with `name`, under which checkpoints store this operator's state. */
  get stableName(): string | undefined {
    return this.givenName;
  }

  /**
   * Names the operator for checkpoints (like Spark's `RDD.setName`): its state is saved under this name,
   * so a changed job still restores it as long as an operator keeps the name. A stateful operator
   * left unnamed gets a name derived from the graph (`updateStateByKey#0`), which shifts when
   * operators are added before it. Naming a stream that is not stateful names the stateful
   * operators it is built on (`reduceByKeyAndWindow(...).name("recent")`).
   *
   * @example
   * const totals = pairs.updateStateByKey(addUp).name("totals");
   */
  name(stableName: string): this {
    this.scope.assertCanAddOperations();
    if (typeof stableName !== "string" || !/^[^\s/][^/]*$/.test(stableName)) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `name: expected a non-empty name without "/" and not starting with a space, got ${JSON.stringify(stableName)}`,
      );
    }
    this.givenName = stableName;
    return this;
  }

  /**
   * Puts a batch restored from a checkpoint in place of computing it (`undefined`: no batch at
   * that time). Internal to recovery.
   *
   * @example
   * stream.seedBatch(3000, restoredBatch);
   */
  seedBatch(time: number, batch: Batch<T> | undefined): void {
    this.generated.set(time, Promise.resolve(batch));
  }

  /** The time before the first batch, once the context has started. */
  get zeroTime(): number | undefined {
    return this.zero;
  }

  /** How long computed batches are kept, once the context has started. */
  get rememberDuration(): number | undefined {
    return this.remembered;
  }

  /** The number of partitions shuffles use by default (the context's default parallelism). */
  protected get defaultParallelism(): number {
    return this.scope.defaultParallelism;
  }

  /**
   * Sets the zero time on this stream and its parents (at start). Internal to the scheduler.
   *
   * @example
   * stream.initialize(0);
   */
  initialize(zeroTime: number): void {
    if (this.zero !== undefined && this.zero !== zeroTime) {
      throw new SluiceError(
        "SLUICE_INTERNAL",
        `${this.operatorName} was initialized with zero time ${this.zero} ms and again with ${zeroTime} ms`,
      );
    }
    // Reached again by another path (a stream below a union's both sides, or below several
    // outputs): its parents are initialized already. Walked path by path, a ladder of unions
    // would double the work with every rung.
    if (this.zero === zeroTime) return;
    this.zero = zeroTime;
    if (this.remembered === undefined || this.remembered < this.slideDuration) {
      this.remembered = this.slideDuration;
    }
    for (const parent of this.dependencies) parent.initialize(zeroTime);
  }

  /**
   * Keeps computed batches for at least `duration`, and asks parents for what this stream needs
   * of them (Spark's `remember`). `everywhere` is what `ctx.remember` asked of the whole graph.
   * Every stream is computed at each of its batch times (outputs read it then, and the scheduler
   * computes windows' parents at every tick: `parentsReadLater`), so a parent's batch is read
   * again only by a window: a window makes its own parent remember its width, and the streams
   * above that parent keep their batches one slide (a window over a reduction keeps the
   * per-batch reductions, never the raw records). Internal to the scheduler.
   *
   * @example
   * stream.remember(5000, 5000); // what ctx.remember("5s") does
   */
  remember(duration: number | undefined, everywhere: number | undefined): void {
    // Parents hear again only when this stream asks for more than it asked them before (what
    // it asks grows with its own durations): another path to it asking for no more changes
    // nothing above it, and is not walked again.
    let changed = !this.rememberAsked;
    if (duration !== undefined && (this.remembered === undefined || duration > this.remembered)) {
      this.remembered = duration;
      changed = true;
    }
    if (
      everywhere !== undefined &&
      (this.rememberedEverywhere === undefined || everywhere > this.rememberedEverywhere)
    ) {
      this.rememberedEverywhere = everywhere;
      changed = true;
    }
    if (!changed) return;
    this.rememberAsked = true;
    for (const parent of this.dependencies) {
      parent.remember(this.parentRememberDuration(), this.rememberedEverywhere);
    }
  }

  /**
   * How long parents must keep their batches for this stream: what the graph asked of every
   * stream; windows add their width (they read their parent's older batches).
   */
  protected parentRememberDuration(): number | undefined {
    return this.rememberedEverywhere;
  }

  /**
   * The parents whose batch at `time` this stream reads again at a later time: a window reads
   * its parent's batches for as long as they are inside it. The scheduler computes those at
   * `time` (`DStreamGraph.parentsToComputeAt`), while the streams above them still hold that
   * time's batches, so those streams need not remember them. None for other streams.
   *
   * @example
   * windowed.parentsReadLater(3000); // [parent] while a later window holds the batch at 3 s
   */
  parentsReadLater(_time: number): ReadonlyArray<DStream<unknown>> {
    return NOTHING;
  }

  /**
   * Computes the batch at `time` now, for a stream whose batches are read again later (a
   * window's parent). A failure stays that time's outcome, as a computed batch would: a window
   * reading it later fails with it instead of recomputing it from streams that have forgotten
   * that time. Internal to the scheduler.
   *
   * @example
   * await parent.computeAhead(3000);
   */
  async computeAhead(time: number): Promise<void> {
    const computing = this.getOrCompute(time);
    try {
      await computing;
    } catch {
      if (!this.generated.has(time)) this.generated.set(time, computing);
    }
  }

  /**
   * Forgets this stream's batches older than its remember duration after the batch at `time`
   * completed (not its parents': the graph visits every stream once). Internal to the scheduler.
   *
   * @example
   * stream.clearMetadata(10_000);
   */
  clearMetadata(time: number): void {
    const remembered = this.remembered ?? this.slideDuration;
    for (const [batchTime, batch] of this.generated) {
      if (batchTime <= time - remembered) {
        this.generated.delete(batchTime);
      } else if (batchTime <= time && remembered <= this.slideDuration) {
        // No later batch reads this one (nothing asked to remember more than a slide), so the JS
        // values a columnar batch was decoded into go now instead of a batch later: kept, they
        // would survive the next batch's young-generation collections and be copied into old
        // space. Read again (`slice`), the columns decode again, to equal values.
        batch.then(releaseDecodedRecords, ignoreFailure);
      }
    }
  }

  /**
   * True when this stream has a batch at `time`: after the zero time, on a multiple of the
   * slide duration.
   *
   * @example
   * windowed.isTimeValid(3000); // false for a 2 s slide from zero time 0
   */
  isTimeValid(time: number): boolean {
    const zero = this.zero;
    if (zero === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `${this.operatorName} has not been initialized: start its StreamingContext first`,
      );
    }
    return time > zero && (time - zero) % this.slideDuration === 0;
  }

  /**
   * Makes this stream's batches come from `feed` instead of its parents, which are then never
   * computed. A cluster job's keyed task feeds the stream where the job was cut this way, with
   * the pairs other processes sent it.
   *
   * @example
   * pairs.feedFrom((time) => ({ time, partitions: [received.get(time) ?? []] }));
   */
  feedFrom(feed: (time: number) => Batch<T> | undefined): void {
    this.feed = feed;
  }

  /**
   * The batch at `time`, computed once and kept until forgotten (Spark's `getOrCompute`);
   * `undefined` when the stream has no batch at that time.
   *
   * @example
   * const batch = await stream.getOrCompute(3000);
   */
  getOrCompute(time: number): Promise<Batch<T> | undefined> {
    const cached = this.generated.get(time);
    if (cached !== undefined) return cached;
    if (!this.isTimeValid(time)) return Promise.resolve(undefined);
    const fed = this.feed;
    // With executors, per-partition operators and shuffles run as tasks on them.
    const onExecutors =
      fed === undefined
        ? (this.scope.execution()?.compute(this, time) as Promise<Batch<T> | undefined> | undefined)
        : Promise.resolve(fed(time));
    const computing = (onExecutors ?? this.compute(time)).catch((error: unknown) => {
      this.generated.delete(time);
      throw error;
    });
    this.generated.set(time, computing);
    return computing;
  }

  /**
   * The times of the batches this stream currently keeps, in ascending order.
   *
   * @example
   * stream.generatedTimes(); // [8000, 9000, 10000]
   */
  generatedTimes(): number[] {
    return [...this.generated.keys()].sort((a, b) => a - b);
  }

  /**
   * Every batch between `from` and `to` (both included, aligned down to the slide), computed or
   * recalled. The context must have started.
   *
   * @example
   * const lastThree = await stream.slice(clock.now() - 2000, clock.now());
   */
  async slice(from: number, to: number): Promise<Batch<T>[]> {
    const zero = this.zero;
    if (zero === undefined) {
      throw new SluiceError(
        "SLUICE_ILLEGAL_STATE",
        `${this.operatorName} has not been initialized: slice works once its StreamingContext has started`,
      );
    }
    const slide = this.slideDuration;
    const align = (time: number): number => zero + Math.floor((time - zero) / slide) * slide;
    const batches: Batch<T>[] = [];
    for (let time = align(from); time <= align(to); time += slide) {
      if (time < zero) continue;
      const batch = await this.getOrCompute(time);
      if (batch !== undefined) batches.push(batch);
    }
    return batches;
  }

  /**
   * Spark's `DStream.checkpoint(interval)`: saves this stream's state at least every `interval`
   * of batch time, a multiple of its slide duration. Sluice saves the state of every stateful
   * stream in one checkpoint of the job, so the job checkpoints at the shortest interval its
   * streams or `ctx.checkpoint(directory, { interval })` ask for (instead of after every batch).
   * The job must have a checkpoint folder, as in Spark. Call before `start()`.
   *
   * @example
   * pairs.updateStateByKey(addUp).checkpoint("10s"); // a checkpoint every 10 s of batch time
   */
  checkpoint(interval: Duration): this {
    this.scope.assertCanAddOperations();
    const what = `${this.operatorName} (stream ${this.id})`;
    const ms = parseDuration(interval, `checkpoint interval of ${what}`);
    if (ms % this.slideDuration !== 0) {
      throw new SluiceError(
        "SLUICE_INVALID_DURATION",
        `checkpoint: the interval of ${what} must be a multiple of its slide duration, ${this.slideDuration} ms (as in Spark); got ${ms} ms`,
      );
    }
    this.checkpointEvery = ms;
    return this;
  }

  /** The interval `checkpoint(interval)` set, in ms (`undefined`: none). */
  get checkpointInterval(): number | undefined {
    return this.checkpointEvery;
  }

  /**
   * Kept for Spark compatibility: batches are always kept in memory until forgotten.
   *
   * @example
   * const words = lines.flatMap((l) => l.split(" ")).cache();
   */
  cache(): this {
    return this;
  }

  /**
   * Kept for Spark compatibility: batches are always kept in memory until forgotten.
   *
   * @example
   * const words = lines.flatMap((l) => l.split(" ")).persist();
   */
  persist(): this {
    return this;
  }

  // ---------------------------------------------------------------- record-by-record operations

  /**
   * A stream of `fn` applied to every record. Returning a `[key, value]` array literal gives a
   * stream of pairs.
   *
   * @example
   * const pairs = words.map((word) => [word, 1]); // DStream<[string, number]>
   */
  map<K, V>(fn: (record: T) => readonly [K, V]): DStream<[K, V]>;
  map<U>(fn: (record: T) => U): DStream<U>;
  map<U>(fn: (record: T) => U): DStream<U> {
    return new this.scope.operators.MappedDStream(
      this,
      guardRecords(this.scope.recordFailures, "map", fn, SKIPPED_RECORD) as (record: T) => U,
    );
  }

  /**
   * A stream of every record `fn` returns for every record.
   *
   * @example
   * const words = lines.flatMap((line) => line.split(" "));
   */
  flatMap<K, V>(fn: (record: T) => Iterable<readonly [K, V]>): DStream<[K, V]>;
  flatMap<U>(fn: (record: T) => Iterable<U>): DStream<U>;
  flatMap<U>(fn: (record: T) => Iterable<U>): DStream<U> {
    return new this.scope.operators.FlatMappedDStream(
      this,
      guardRecords(this.scope.recordFailures, "flatMap", fn, NOTHING as Iterable<U>),
    );
  }

  /**
   * A stream of the records for which `predicate` is true.
   *
   * @example
   * const errors = lines.filter((line) => line.startsWith("ERROR"));
   */
  filter<S extends T>(predicate: (record: T) => record is S): DStream<S>;
  filter(predicate: (record: T) => boolean): DStream<T>;
  filter(predicate: (record: T) => boolean): DStream<T> {
    return new this.scope.operators.FilteredDStream(
      this,
      guardRecords(this.scope.recordFailures, "filter", predicate, false),
    );
  }

  /**
   * A stream of what `fn` returns for each partition of each batch (with the partition's index).
   *
   * @example
   * const sums = numbers.mapPartitions((records) => [records.reduce((a, b) => a + b, 0)]);
   */
  mapPartitions<U>(
    fn: (records: ReadonlyArray<T>, partitionIndex: number) => Iterable<U>,
  ): DStream<U> {
    return new this.scope.operators.MapPartitionedDStream(this, fn);
  }

  /**
   * A stream of what `fn` returns for each partition of strings read as UTF-8 rows
   * (`text.bytes.subarray(text.offsets[i], text.offsets[i + 1])` is row `i`), like PySpark's
   * `mapInArrow`. After a byte parser the rows are the parser's own bytes and no string is made
   * per record; any other partition is encoded first.
   *
   * @example
   * const bytes = ctx.source("socket", options).lines().mapTextColumns(({ text }) => [text.bytes.length]);
   */
  mapTextColumns<U>(this: DStream<string>, fn: ColumnsFunction<"text", U>): DStream<U> {
    return new this.scope.operators.ColumnMappedDStream(this, "text", fn);
  }

  /**
   * A stream of what `fn` returns for each partition of `[string, number]` pairs read as
   * columns: the keys as UTF-8 rows and the values as a `Float64Array`. After a named reduction
   * of parsed bytes (`words().countByValue()`) they are its own columns, and no key string is
   * made per record; any other partition is encoded first.
   *
   * @example
   * counts.mapPairColumns(({ keys, values }) => [keys.bytes.length, values.length]);
   */
  mapPairColumns<U>(
    this: DStream<readonly [string, number]>,
    fn: ColumnsFunction<"pairs", U>,
  ): DStream<U> {
    return new this.scope.operators.ColumnMappedDStream(this, "pairs", fn);
  }

  /**
   * A stream of what `fn` returns for each partition of numbers read as one `Float64Array`
   * (a numeric parser's own column, or the records copied into one).
   *
   * @example
   * const sums = ctx.source("file", options).lines().jsonNumberField("t").mapNumberColumns(({ values }) => [values.reduce((a, b) => a + b, 0)]);
   */
  mapNumberColumns<U>(this: DStream<number>, fn: ColumnsFunction<"numbers", U>): DStream<U> {
    return new this.scope.operators.ColumnMappedDStream(this, "numbers", fn);
  }

  /**
   * A stream whose records are the partitions of this stream's batches, as arrays.
   *
   * @example
   * numbers.glom(); // batch [[1, 2], [3, 4]] becomes [[[1, 2]], [[3, 4]]]
   */
  glom(): DStream<T[]> {
    return new this.scope.operators.GlommedDStream(this);
  }

  /**
   * The same records spread over `numPartitions` partitions (round-robin).
   *
   * @example
   * const wide = lines.repartition(8);
   */
  repartition(numPartitions: number): DStream<T> {
    const partitions = checkPartitionCount(numPartitions, "repartition: numPartitions");
    return new this.scope.operators.BatchMappedDStream(
      this,
      (batch: Batch<T>) => roundRobin(batch, partitions),
      "repartition",
    );
  }

  /**
   * A stream of this stream's records and `other`'s, batch by batch. Both must have the same
   * slide duration.
   *
   * @example
   * const all = fromKafka.union(fromSocket);
   */
  union(other: DStream<T>): DStream<T> {
    return new this.scope.operators.UnionDStream([this, other]);
  }

  // ------------------------------------------------------------------------------ byte parsers

  /**
   * A stream of the lines of every record: its bytes (a source record's `value`, a
   * `Uint8Array`, or a string's UTF-8) split on `\n`, a `\r` before it dropped, no empty line
   * after a final `\n`. Runs on the kernels over the whole batch at once; followed by a named
   * operation (`countByValue`, another parser) no string is made per line.
   *
   * @example
   * ctx.source("file", { directory: "logs", format: "bytes" }).lines().filter((l) => l.includes("ERROR"));
   */
  lines(this: DStream<TextRecord>): DStream<string> {
    return this.parsed({ kind: "lines" });
  }

  /**
   * A stream of the words of every record: maximal runs of bytes other than ASCII whitespace
   * (space, `\t`, `\n`, `\v`, `\f`, `\r`), so never an empty word. The same words as
   * `text.split(/[ \t\n\v\f\r]+/).filter((w) => w !== "")`; `words().countByValue()` is the
   * fast word count (columnar from the bytes to the counts).
   *
   * @example
   * ctx.source("kafka", { topic: "text" }).words().countByValue().print();
   */
  words(this: DStream<TextRecord>): DStream<string> {
    return this.parsed({ kind: "words" });
  }

  /**
   * A stream of field `index` (0-based) of every record read as one CSV record (RFC 4180
   * quotes: `""` is a quote; one trailing `\n` or `\r\n` ignored). Records with fewer fields
   * give nothing.
   *
   * @example
   * orders.csvColumn(2).countByValue(); // orders per country, from the third column
   */
  csvColumn(
    this: DStream<TextRecord>,
    index: number,
    options: { readonly delimiter?: string } = {},
  ): DStream<string> {
    return this.parsed({ kind: "csvColumn", index, delimiter: options.delimiter ?? "," });
  }

  /**
   * A stream of the string in top-level member `name` of every record read as a JSON object
   * (unescaped). Records without it, with another type there, or malformed before it give
   * nothing.
   *
   * @example
   * events.jsonStringField("user").countByValue();
   */
  jsonStringField(this: DStream<TextRecord>, name: string): DStream<string> {
    return this.parsed({ kind: "jsonStringField", field: name });
  }

  /**
   * A stream of the number in top-level member `name` of every record read as a JSON object
   * (read like `Number()`). Records without it, with another type there, or malformed before it
   * give nothing.
   *
   * @example
   * readings.jsonNumberField("temperature").reduce((a, b) => Math.max(a, b));
   */
  jsonNumberField(this: DStream<TextRecord>, name: string): DStream<number> {
    return this.parsed({ kind: "jsonNumberField", field: name });
  }

  private parsed<U extends string | number>(
    this: DStream<TextRecord>,
    parser: ByteParser,
  ): DStream<U> {
    checkByteParser(parser);
    const Parsed = this.scope.operators.ByteParsedDStream;
    return new Parsed<U>(this, parser);
  }

  // ------------------------------------------------------------------------ whole-batch results

  /**
   * A stream with one record per batch: its number of records (`0` for an empty batch).
   *
   * @example
   * lines.count().print();
   */
  count(): DStream<number> {
    return new this.scope.operators.BatchMappedDStream(
      this,
      (batch: Batch<T>) => [[batchSize(batch)]],
      "count",
    );
  }

  /**
   * A stream of `[record, occurrences]` for every distinct record of each batch, counted on the
   * kernels (`reduceByKey("count")` of `[record, 1]`); after a byte parser, from the parser's
   * columns without a string per record.
   *
   * @example
   * words.countByValue(); // batch ["a", "b", "a"] gives [["a", 2], ["b", 1]]
   */
  countByValue(numPartitions?: number): DStream<[T, number]> {
    // Counting the rows gives the sum of the ones, without reading them. Every count of this
    // stream (countByValue, countByValueAndWindow) reads the same pairs: a batch pairs its
    // records once, and a cluster job finds one stream of pairs to cut at.
    this.pairedWithOne ??= new this.scope.operators.PairedWithOneDStream<T>(this);
    return this.pairedWithOne.reduceByKey("count", numPartitions);
  }

  /**
   * A stream with one record per batch: its records combined with `fn` (an empty batch gives
   * no record).
   *
   * @example
   * numbers.reduce((a, b) => Math.max(a, b));
   */
  reduce(fn: (a: T, b: T) => T): DStream<T> {
    return new this.scope.operators.BatchMappedDStream(
      this,
      (batch: Batch<T>) => [reduceBatch(batch, fn)],
      "reduce",
    );
  }

  /**
   * A stream of whatever `fn` makes of each batch (Spark's `transform`): any batch-level logic,
   * such as sorting or joining with a lookup table.
   *
   * @example
   * const sorted = numbers.transform((batch) => batchRecords(batch).sort((a, b) => a - b));
   */
  transform<U>(
    fn: (batch: Batch<T>, time: number) => TransformResult<U> | Promise<TransformResult<U>>,
  ): DStream<U> {
    const Transformed = this.scope.operators.TransformedDStream;
    return new Transformed<U>(
      [this],
      (batches, time) => fn(batches[0] as Batch<T>, time),
      "transform",
    );
  }

  /**
   * A stream of whatever `fn` makes of each pair of batches of this stream and `other`.
   *
   * @example
   * const both = a.transformWith(b, (x, y) => [...batchRecords(x), ...batchRecords(y)]);
   */
  transformWith<U, R>(
    other: DStream<U>,
    fn: (
      batch: Batch<T>,
      otherBatch: Batch<U>,
      time: number,
    ) => TransformResult<R> | Promise<TransformResult<R>>,
  ): DStream<R> {
    const Transformed = this.scope.operators.TransformedDStream;
    return new Transformed<R>(
      [this, other],
      (batches, time) => fn(batches[0] as Batch<T>, batches[1] as Batch<U>, time),
      "transformWith",
    );
  }

  // ----------------------------------------------------------------------------------- windows

  /**
   * A stream of windows: every `slide`, the records of the last `window` of time, i.e. of the
   * batches in (t − window, t]. Early windows are emitted before they are full.
   *
   * @example
   * const lastMinute = events.window("60s", "10s");
   */
  window(window: Duration, slide?: Duration): DStream<T> {
    return new this.scope.operators.WindowedDStream(this, window, slide);
  }

  /**
   * A stream with one record per window: how many records it holds (`0` for an empty window),
   * added up incrementally on the kernels' window aggregator.
   *
   * @example
   * clicks.countByWindow("30s", "10s");
   */
  countByWindow(window: Duration | NamedWindowOptions, slide?: Duration): DStream<number> {
    const spec = namedWindow("countByWindow", window, slide, undefined);
    // Each batch is counted once (without reading its records), and the window adds up the
    // counts on the kernels' window aggregator.
    const counts = new this.scope.operators.BatchMappedDStream(
      this,
      (batch: Batch<T>): [number, number][][] => [[[0, batchSize(batch)]]],
      "count",
    );
    const NamedWindowed = this.scope.operators.NamedWindowedDStream;
    const windowed = new NamedWindowed<number>(counts, "sum", spec.window, spec.slide, 1);
    return new this.scope.operators.BatchMappedDStream(
      windowed,
      (batch: Batch<[number, number]>) => [[batchRecords(batch)[0]?.[1] ?? 0]],
      "countByWindow",
    );
  }

  /**
   * A stream with one record per window: its records combined with `reduce` (an empty window
   * gives no record, unless `inverse` keeps the last value). A named reduction (`"sum"`,
   * `"min"`, `"max"` over numbers, Spark's argument order) runs on the kernels' window
   * aggregator instead of reducing the window again at every slide.
   *
   * @example
   * prices.reduceByWindow((a, b) => Math.max(a, b), { window: "1m", slide: "10s" });
   * prices.reduceByWindow("max", "1m", "10s");
   * prices.reduceByWindow("max", { window: "1m", slide: "10s" });
   */
  reduceByWindow(reduce: (a: T, b: T) => T, options: ReduceByWindowOptions<T>): DStream<T>;
  reduceByWindow(
    this: DStream<number>,
    reduce: "sum" | "min" | "max",
    window: Duration | NamedWindowOptions,
    slide?: Duration,
  ): DStream<number>;
  reduceByWindow(
    reduce: ((a: T, b: T) => T) | NamedReduction,
    options: ReduceByWindowOptions<T> | NamedWindowOptions | Duration,
    slide?: Duration,
  ): DStream<T> | DStream<number> {
    if (isNamedReduction(reduce)) {
      if (reduce === "count") {
        throw new SluiceError(
          "SLUICE_INVALID_ARGUMENT",
          'reduceByWindow: "count" is countByWindow(window, slide); the named reductions here are "sum", "min", "max"',
        );
      }
      const keyed = new this.scope.operators.BatchMappedDStream(
        this,
        (batch: Batch<T>) =>
          batch.partitions.map((p) => p.map((record): [number, T] => [0, record])),
        "reduceByWindow",
      );
      const NamedWindowed = this.scope.operators.NamedWindowedDStream;
      const spec = namedWindow(
        "reduceByWindow",
        options as Duration | NamedWindowOptions,
        slide,
        undefined,
      );
      const windowed = new NamedWindowed<number>(keyed, reduce, spec.window, spec.slide, 1);
      return new this.scope.operators.BatchMappedDStream(
        windowed,
        (batch: Batch<[number, number]>) => [batchRecords(batch).map(([, value]) => value)],
        "reduceByWindow",
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        "reduceByWindow: with a function, pass the window as options ({ window, slide?, inverse? })",
      );
    }
    const { window, slide: every, inverse } = options as ReduceByWindowOptions<T>;
    if (inverse === undefined) {
      return this.reduce(reduce).window(window, every).reduce(reduce);
    }
    return this.map((record): [number, T] => [0, record])
      .reduceByKeyAndWindow(reduce, {
        window,
        ...(every === undefined ? {} : { slide: every }),
        inverse,
        numPartitions: 1,
      })
      .map(([, value]) => value);
  }

  /**
   * A stream of `[record, occurrences]` over each window; records whose count falls to zero are
   * dropped. Each batch is counted (`countByValue`), and the window sums those counts
   * incrementally on the kernels' window aggregator (`reduceByKeyAndWindow("sum", …)`), so it
   * holds one row per value and batch; after a byte parser, counted from the bytes.
   *
   * @example
   * words.countByValueAndWindow("30s", "10s");
   * words.countByValueAndWindow({ window: "30s", slide: "10s" });
   */
  countByValueAndWindow(
    window: Duration | NamedWindowOptions,
    slide?: Duration,
    numPartitions?: number,
  ): DStream<[T, number]> {
    const spec = namedWindow("countByValueAndWindow", window, slide, numPartitions);
    // The window sums each batch's counts: it keeps (and folds in) one row per distinct value
    // and batch, never the batch's records; after a byte parser the counts come from the bytes.
    return this.countByValue(spec.numPartitions).reduceByKeyAndWindow(
      "sum",
      spec.window,
      spec.slide,
      spec.numPartitions,
    );
  }

  // ---------------------------------------------------------------------------------- outputs

  /**
   * Runs `fn` on every batch (Spark's `foreachRDD`); `fn` may return a promise, which is awaited
   * before the batch's next output operation.
   *
   * @example
   * counts.foreachBatch(async (batch, time) => db.write(time, batchRecords(batch)));
   */
  foreachBatch(fn: (batch: Batch<T>, time: number) => void | Promise<void>): void {
    new this.scope.operators.ForEachDStream(this, fn, "foreachBatch");
  }

  /**
   * Prints the first `num` records of every batch to standard output, under a header with the
   * batch time, as Spark does.
   *
   * @example
   * counts.print(); // -------------------------------------------
   *                 // Time: 1000 ms
   *                 // -------------------------------------------
   *                 // ["a",2]
   */
  print(num = 10): void {
    if (!Number.isInteger(num) || num < 0) {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `print: num must be an integer of at least 0, got ${String(num)}`,
      );
    }
    new this.scope.operators.ForEachDStream(
      this,
      (batch, time) => printBatch(batch, time, num),
      "print",
    );
  }

  /**
   * Writes every batch as text files into the directory `prefix-<time>[.suffix]` (one
   * `part-NNNNN` file per partition, one record per line, then `_SUCCESS`), as Spark does. In a
   * cluster job, where several copies of the job write the same batch times, the copy comes
   * after the time (`prefix-<time>-keyed-3[.suffix]`, `…-process-<id>`), so none replaces
   * another's directory.
   *
   * @example
   * counts.saveAsTextFiles("/data/counts", "txt"); // /data/counts-1000.txt/part-00000, ...
   */
  saveAsTextFiles(prefix: string, suffix?: string): void {
    new this.scope.operators.ForEachDStream(
      this,
      (batch, time) =>
        saveBatchAsText(batch, textFilesDirectory(prefix, time, suffix, this.scope.outputWriter())),
      "saveAsTextFiles",
    );
  }

  /**
   * Writes every batch as object files into the directory `prefix-<time>[.suffix]` (one
   * `part-NNNNN` file per partition, each record serialized with `v8.serialize`, then
   * `_SUCCESS`), as Spark's `saveAsObjectFiles` does; read one back with `readObjectFiles`. In a
   * cluster job the copy comes after the time, as with `saveAsTextFiles`. A record that
   * `v8.serialize` would not give back as it was (a function, a symbol, a class instance) fails
   * the batch with `SLUICE_INVALID_RECORD` and nothing is written.
   *
   * @example
   * counts.saveAsObjectFiles("/data/counts"); // await readObjectFiles("/data/counts-1000")
   */
  saveAsObjectFiles(prefix: string, suffix?: string): void {
    new this.scope.operators.ForEachDStream(
      this,
      (batch, time) =>
        saveBatchAsObjects(
          batch,
          textFilesDirectory(prefix, time, suffix, this.scope.outputWriter()),
        ),
      "saveAsObjectFiles",
    );
  }

  /**
   * Writes every batch to a connector sink — a built-in (`"file"`, `"console"`), a plugin
   * registered with the context's connectors, or a plugin object — one `writeBatch` per
   * partition, retried when the connection is lost. Records are text, bytes or `SinkRecord`s.
   *
   * @example
   * counts.map((pair) => JSON.stringify(pair)).sink("file", { directory: "out", prefix: "counts" });
   */
  sink(
    this: DStream<SinkInput>,
    sink: string | SinkPlugin,
    config: unknown,
    options?: SinkOutputOptions,
  ): void {
    this.scope.addSinkOutput(this, sink, config, options);
  }

  // ---------------------------------------------------------------------------- pair operations

  /**
   * A stream of pairs with `fn` applied to every value; keys unchanged.
   *
   * @example
   * counts.mapValues((n) => n * 10);
   */
  mapValues<K, V, U>(this: DStream<readonly [K, V]>, fn: (value: V) => U): DStream<[K, U]> {
    return new this.scope.operators.MappedValuesDStream(
      this,
      guardRecords(this.scope.recordFailures, "mapValues", fn, SKIPPED_RECORD) as (value: V) => U,
    );
  }

  /**
   * A stream of `[key, v]` for every `v` that `fn` returns for a pair's value.
   *
   * @example
   * sentences.flatMapValues((text) => text.split(" "));
   */
  flatMapValues<K, V, U>(
    this: DStream<readonly [K, V]>,
    fn: (value: V) => Iterable<U>,
  ): DStream<[K, U]> {
    return new this.scope.operators.FlatMappedValuesDStream(
      this,
      guardRecords(this.scope.recordFailures, "flatMapValues", fn, NOTHING as Iterable<U>),
    );
  }

  /**
   * A stream of `[key, values]` per batch: every value of each key, in arrival order.
   *
   * @example
   * clicksByUser.groupByKey(); // [["u1", [page1, page2]], ...]
   */
  groupByKey<K, V>(this: DStream<readonly [K, V]>, numPartitions?: number): DStream<[K, V[]]> {
    return this.combineByKey(
      (value) => [value],
      (values, value) => {
        values.push(value);
        return values;
      },
      (left, right) => {
        for (const value of right) left.push(value);
        return left;
      },
      numPartitions,
      false,
    );
  }

  /**
   * A stream of `[key, value]` per batch with every key's values combined: by a function, or by a
   * named reduction (`"sum"`, `"min"`, `"max"` over numbers; `"count"` of values), which later
   * runs on the columnar kernels.
   *
   * @example
   * words.map((w) => [w, 1]).reduceByKey("sum");
   * words.map((w) => [w, 1]).reduceByKey((a, b) => a + b);
   */
  reduceByKey<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: (a: V, b: V) => V,
    numPartitions?: number,
  ): DStream<[K, V]>;
  reduceByKey<K>(
    this: DStream<readonly [K, number]>,
    reduce: "sum" | "min" | "max",
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKey<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: "count",
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKey<K>(
    this: DStream<readonly [K, number]>,
    reduce: NamedReduction,
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKey<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: ((a: V, b: V) => V) | NamedReduction,
    numPartitions?: number,
  ): DStream<[K, V]> | DStream<[K, number]> {
    const partitions = this.partitionsOrDefault(numPartitions, "reduceByKey");
    if (isNamedReduction(reduce)) {
      const NamedReduced = this.scope.operators.NamedReducedDStream;
      return new NamedReduced<K>(this, reduce, partitions);
    }
    if (typeof reduce !== "function") {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `reduceByKey: expected a function or one of "sum", "count", "min", "max", got ${String(reduce)}`,
      );
    }
    return new this.scope.operators.ShuffledDStream(
      this,
      { createCombiner: (value: V) => value, mergeValue: reduce, mergeCombiners: reduce, reduce },
      partitions,
      true,
    );
  }

  /**
   * A stream of `[key, combined]` per batch, built with Spark's three combiner functions: the
   * first value of a key in a partition starts a combiner, later ones are merged into it, and the
   * partitions' combiners are merged together.
   *
   * @example
   * scores.combineByKey(
   *   (v) => ({ sum: v, n: 1 }),
   *   (acc, v) => ({ sum: acc.sum + v, n: acc.n + 1 }),
   *   (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
   * );
   */
  combineByKey<K, V, C>(
    this: DStream<readonly [K, V]>,
    createCombiner: (value: V) => C,
    mergeValue: (combiner: C, value: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions?: number,
    mapSideCombine = true,
  ): DStream<[K, C]> {
    return new this.scope.operators.ShuffledDStream(
      this,
      { createCombiner, mergeValue, mergeCombiners },
      this.partitionsOrDefault(numPartitions, "combineByKey"),
      mapSideCombine,
    );
  }

  /**
   * A stream of `[key, [values, otherValues]]` for every key in either stream's batch.
   *
   * @example
   * orders.cogroup(payments); // [["o1", [[order], [payment1, payment2]]], ...]
   */
  cogroup<K, V, W>(
    this: DStream<readonly [K, V]>,
    other: DStream<readonly [K, W]>,
    numPartitions?: number,
  ): DStream<[K, [V[], W[]]]> {
    return new this.scope.operators.CoGroupedDStream(
      this,
      other,
      this.partitionsOrDefault(numPartitions, "cogroup"),
    );
  }

  /**
   * A stream of `[key, [value, otherValue]]` for every pair of values of a key present in both
   * streams' batches (inner join).
   *
   * @example
   * orders.join(customers); // [["c1", [order, customer]], ...]
   */
  join<K, V, W>(
    this: DStream<readonly [K, V]>,
    other: DStream<readonly [K, W]>,
    numPartitions?: number,
  ): DStream<[K, [V, W]]> {
    return this.cogroup(other, numPartitions).flatMapValues(([values, others]) => {
      const joined: [V, W][] = [];
      for (const value of values) for (const otherValue of others) joined.push([value, otherValue]);
      return joined;
    });
  }

  /**
   * Like `join`, keeping every pair of this stream: `undefined` stands for a missing other value
   * (Spark's `None`).
   *
   * @example
   * clicks.leftOuterJoin(users); // [["u9", [click, undefined]], ...]
   */
  leftOuterJoin<K, V, W>(
    this: DStream<readonly [K, V]>,
    other: DStream<readonly [K, W]>,
    numPartitions?: number,
  ): DStream<[K, [V, W | undefined]]> {
    return this.cogroup(other, numPartitions).flatMapValues(([values, others]) => {
      const joined: [V, W | undefined][] = [];
      for (const value of values) {
        if (others.length === 0) joined.push([value, undefined]);
        for (const otherValue of others) joined.push([value, otherValue]);
      }
      return joined;
    });
  }

  /**
   * Like `join`, keeping every pair of `other`: `undefined` stands for a missing value of this
   * stream.
   *
   * @example
   * clicks.rightOuterJoin(users); // [["u2", [undefined, user]], ...]
   */
  rightOuterJoin<K, V, W>(
    this: DStream<readonly [K, V]>,
    other: DStream<readonly [K, W]>,
    numPartitions?: number,
  ): DStream<[K, [V | undefined, W]]> {
    return this.cogroup(other, numPartitions).flatMapValues(([values, others]) => {
      const joined: [V | undefined, W][] = [];
      for (const otherValue of others) {
        if (values.length === 0) joined.push([undefined, otherValue]);
        for (const value of values) joined.push([value, otherValue]);
      }
      return joined;
    });
  }

  /**
   * Like `join`, keeping every pair of both streams: `undefined` stands for the missing side.
   *
   * @example
   * left.fullOuterJoin(right); // [["a", [1, undefined]], ["b", [undefined, "x"]], ...]
   */
  fullOuterJoin<K, V, W>(
    this: DStream<readonly [K, V]>,
    other: DStream<readonly [K, W]>,
    numPartitions?: number,
  ): DStream<[K, [V | undefined, W | undefined]]> {
    return this.cogroup(other, numPartitions).flatMapValues(([values, others]) => {
      const joined: [V | undefined, W | undefined][] = [];
      if (values.length === 0)
        for (const otherValue of others) joined.push([undefined, otherValue]);
      else if (others.length === 0) for (const value of values) joined.push([value, undefined]);
      else
        for (const value of values)
          for (const otherValue of others) joined.push([value, otherValue]);
      return joined;
    });
  }

  /**
   * `groupByKey` over a sliding window: every key's values in the window, in time order.
   *
   * @example
   * clicksByUser.groupByKeyAndWindow("1m", "10s");
   */
  groupByKeyAndWindow<K, V>(
    this: DStream<readonly [K, V]>,
    window: Duration,
    slide?: Duration,
    numPartitions?: number,
  ): DStream<[K, V[]]> {
    const partitions = this.partitionsOrDefault(numPartitions, "groupByKeyAndWindow");
    return this.groupByKey(partitions)
      .window(window, slide)
      .combineByKey(
        (values) => [...values],
        (all, values) => {
          for (const value of values) all.push(value);
          return all;
        },
        (left, right) => {
          for (const value of right) left.push(value);
          return left;
        },
        partitions,
      );
  }

  /**
   * `reduceByKey` over a sliding window. With `inverse`, each window is computed from the
   * previous one (add what entered, remove what left); keys whose value falls to the identity
   * then stay unless `filter` drops them. A named reduction (`"sum"`, `"count"`, `"min"`,
   * `"max"`; Spark's argument order: window, slide, partitions) keeps the window in the
   * kernels' window aggregator: `sum` and `count` move incrementally, `min` and `max` are folded
   * from panes, keys present in the window are emitted, and the state is checkpointed.
   *
   * @example
   * pairs.reduceByKeyAndWindow((a, b) => a + b, {
   *   window: "30s",
   *   slide: "10s",
   *   inverse: (a, b) => a - b,
   *   filter: ([, n]) => n !== 0,
   * });
   * pairs.reduceByKeyAndWindow("sum", "30s", "10s");
   * pairs.reduceByKeyAndWindow("sum", { window: "30s", slide: "10s" });
   */
  reduceByKeyAndWindow<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: (a: V, b: V) => V,
    options: ReduceByKeyAndWindowOptions<K, V>,
  ): DStream<[K, V]>;
  reduceByKeyAndWindow<K>(
    this: DStream<readonly [K, number]>,
    reduce: "sum" | "min" | "max",
    window: Duration | NamedWindowOptions,
    slide?: Duration,
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKeyAndWindow<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: "count",
    window: Duration | NamedWindowOptions,
    slide?: Duration,
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKeyAndWindow<K>(
    this: DStream<readonly [K, number]>,
    reduce: NamedReduction,
    window: Duration | NamedWindowOptions,
    slide?: Duration,
    numPartitions?: number,
  ): DStream<[K, number]>;
  reduceByKeyAndWindow<K, V>(
    this: DStream<readonly [K, V]>,
    reduce: ((a: V, b: V) => V) | NamedReduction,
    optionsOrWindow: ReduceByKeyAndWindowOptions<K, V> | NamedWindowOptions | Duration,
    slideDuration?: Duration,
    numPartitions?: number,
  ): DStream<[K, V]> | DStream<[K, number]> {
    if (isNamedReduction(reduce)) {
      const spec = namedWindow(
        "reduceByKeyAndWindow",
        optionsOrWindow,
        slideDuration,
        numPartitions,
      );
      const NamedWindowed = this.scope.operators.NamedWindowedDStream;
      return new NamedWindowed<K>(
        this,
        reduce,
        spec.window,
        spec.slide,
        this.partitionsOrDefault(spec.numPartitions, "reduceByKeyAndWindow"),
      );
    }
    if (typeof reduce !== "function" || typeof optionsOrWindow !== "object") {
      throw new SluiceError(
        "SLUICE_INVALID_ARGUMENT",
        `reduceByKeyAndWindow: expected a function and options ({ window, slide?, inverse?, filter?, numPartitions? }), or one of "sum", "count", "min", "max" and a window (a duration or { window, slide?, numPartitions? }); got ${String(reduce)}`,
      );
    }
    const options = optionsOrWindow as ReduceByKeyAndWindowOptions<K, V>;
    const partitions = this.partitionsOrDefault(options.numPartitions, "reduceByKeyAndWindow");
    const { window, slide, inverse, filter } = options;
    if (inverse !== undefined) {
      return new this.scope.operators.ReducedWindowedDStream(this, {
        reduce,
        inverse,
        filter,
        window,
        slide,
        numPartitions: partitions,
      });
    }
    const reduced = this.reduceByKey(reduce, partitions)
      .window(window, slide)
      .reduceByKey(reduce, partitions);
    return filter === undefined ? reduced : reduced.filter(filter);
  }

  /**
   * A stream of every key's state, updated each batch by `update(values, state, { time, key })`
   * for every key that has state or new values (also in batches that bring it none). Return the
   * new state, or `undefined` to drop the key.
   *
   * @example
   * const totals = pairs.updateStateByKey((values, total: number | undefined) =>
   *   values.reduce((a, b) => a + b, total ?? 0),
   * );
   */
  updateStateByKey<K, V, S>(
    this: DStream<readonly [K, V]>,
    update: (values: V[], state: S | undefined, info: UpdateStateInfo<K>) => S | undefined,
    options: UpdateStateOptions<K, S> = {},
  ): DStream<[K, S]> {
    return new this.scope.operators.StateDStream(
      this,
      update,
      this.partitionsOrDefault(options.numPartitions, "updateStateByKey"),
      options.initialState,
    );
  }

  /**
   * Keeps a `State` per key and calls `fn(key, value, state, { time })` once for each new record
   * and once (with `value` undefined and `state.isTimingOut()`) for each key idle longer than
   * `timeout`. The stream holds what `fn` returns (`undefined` emits nothing);
   * `.stateSnapshots()` gives every key's state per batch.
   *
   * @example
   * const running = pairs.mapWithState({
   *   fn: (word, one: number | undefined, state: State<number>) => {
   *     const total = (one ?? 0) + (state.getOption() ?? 0);
   *     if (!state.isTimingOut()) state.update(total);
   *     return [word, total] as const;
   *   },
   *   timeout: "10m",
   * });
   */
  mapWithState<K, V, S, E>(
    this: DStream<readonly [K, V]>,
    spec: StateSpec<K, V, S, E>,
  ): MapWithStateDStream<K, V, S, E> {
    return new this.scope.operators.MapWithStateDStream(this, spec);
  }

  /** `numPartitions` checked, or the context's default parallelism. */
  protected partitionsOrDefault(numPartitions: number | undefined, operation: string): number {
    if (numPartitions === undefined) return this.defaultParallelism;
    return checkPartitionCount(numPartitions, `${operation}: numPartitions`);
  }
}

/** What a guarded `flatMap` yields for a record that went to the dead-letter sink. */
const NOTHING: readonly never[] = Object.freeze([]);

/** Spark's `repartition`: each partition deals its records round-robin, starting at its index. */
function roundRobin<T>(batch: Batch<T>, numPartitions: number): T[][] {
  const out: T[][] = Array.from({ length: numPartitions }, () => []);
  batch.partitions.forEach((partition, index) => {
    let position = index % numPartitions;
    for (const record of partition) {
      (out[position] as T[]).push(record);
      position = (position + 1) % numPartitions;
    }
  });
  return out;
}

/** Spark's `reduce`: each partition reduced in order, then the partial results in order. */
function reduceBatch<T>(batch: Batch<T>, fn: (a: T, b: T) => T): T[] {
  let result: { value: T } | undefined;
  for (const partition of batch.partitions) {
    if (partition.length === 0) continue;
    let partial = partition[0] as T;
    for (let i = 1; i < partition.length; i++) partial = fn(partial, partition[i] as T);
    result = result === undefined ? { value: partial } : { value: fn(result.value, partial) };
  }
  return result === undefined ? [] : [result.value];
}

function printBatch<T>(batch: Batch<T>, time: number, num: number): void {
  const lines = ["-------------------------------------------", `Time: ${time} ms`];
  lines.push("-------------------------------------------");
  let printed = 0;
  let more = false;
  for (const partition of batch.partitions) {
    for (const record of partition) {
      if (printed === num) {
        more = true;
        break;
      }
      lines.push(formatRecord(record));
      printed++;
    }
    if (more) break;
  }
  if (more) lines.push("...");
  lines.push("");
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Spark's `rddToFileName`: `prefix-time`, plus `.suffix` when given. */
function textFilesDirectory(
  prefix: string,
  time: number,
  suffix: string | undefined,
  writer: string | undefined,
): string {
  const name = writer === undefined ? `${prefix}-${time}` : `${prefix}-${time}-${writer}`;
  return suffix === undefined || suffix === "" ? name : `${name}.${suffix}`;
}

function releaseDecodedRecords(batch: Batch<unknown> | undefined): void {
  if (batch instanceof ColumnarBatch) batch.releaseRecords();
}

// A batch that failed was reported by its job; forgetting it has nothing to add.
function ignoreFailure(): void {}
