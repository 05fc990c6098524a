import type { DStream } from "./dstream.js";
import type { PartitionOperator } from "./partition-operator.js";

/** Where a step of a fused loop sends each record it makes. */
export type RecordSink<T> = (record: T) => void;

/**
 * A per-record operator (`map`, `flatMap`, `filter`, `mapValues`, `flatMapValues`, the pairing
 * of `countByValue`) as one step of a fused loop: it takes one record at a time and sends what
 * it makes of it straight to the next step, so a chain of them runs as one loop per partition
 * with no array between two operators. Records reach the end in the order the operators would
 * give one after the other.
 *
 * @example
 * const sink = mapped.recordStep((pair) => out.push(pair));
 * for (const word of words) sink(word);
 */
export interface RecordStep<T, U> extends PartitionOperator<T, U> {
  /** The function of one input record that sends every record this operator makes of it to `next`. */
  recordStep(next: RecordSink<U>): RecordSink<T>;
  /**
   * True once `cache()` or `persist()` was called: the stream then computes and keeps its own
   * batch, and a fused loop never runs through it.
   */
  readonly keepsOwnBatch: boolean;
}

/**
 * The records of one partition handed one by one to `push`, in order: how a fused loop reads its
 * input, from an array or made as they are read (cut from a partition shipped as one string,
 * decoded from a text column), so that no array of them lives through the loop.
 *
 * @example
 * const feed: RecordFeed = (push) => ["a", "b"].forEach((record) => push(record));
 */
export type RecordFeed = (push: RecordSink<unknown>) => void;

/**
 * The records of an array as a feed.
 *
 * @example
 * feedOf(["a b", "c"])((line) => console.log(line));
 */
export function feedOf(records: ReadonlyArray<unknown>): RecordFeed {
  return (push) => {
    for (let i = 0; i < records.length; i++) push(records[i]);
  };
}

/**
 * True when `stream` can be a step of a fused loop.
 *
 * @example
 * isRecordStep(words.map((w) => [w, 1])); // true
 */
export function isRecordStep(
  stream: DStream<unknown>,
): stream is DStream<unknown> & RecordStep<unknown, unknown> {
  return typeof (stream as Partial<RecordStep<unknown, unknown>>).recordStep === "function";
}

/**
 * The entry of a fused loop: every record given to it goes through `steps` (parent first) and
 * what comes out of the last one goes to `end`. With `tagErrors`, an error a step throws (its
 * function, or iterating what a `flatMap` returned) is marked with that step's stream id
 * (`sluiceStreamId`), as executors report it; a step downstream marks its own errors first.
 *
 * @example
 * const push = fuseSteps([flatMapped, mapped], (pair) => out.push(pair));
 * for (const line of lines) push(line);
 */
export function fuseSteps(
  steps: ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
  end: RecordSink<unknown>,
  tagErrors = false,
): RecordSink<unknown> {
  let sink = end;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i] as DStream<unknown> & RecordStep<unknown, unknown>;
    sink = tagErrors ? taggedSink(step.recordStep(sink), step.id) : step.recordStep(sink);
  }
  return sink;
}

/**
 * The records of one partition through `steps` in one loop, collected into one array.
 *
 * @example
 * applySteps(["a b", "c"], [flatMapped, mapped]); // [["a", 1], ["b", 1], ["c", 1]]
 */
export function applySteps(
  records: ReadonlyArray<unknown>,
  steps: ReadonlyArray<DStream<unknown> & RecordStep<unknown, unknown>>,
  tagErrors = false,
): unknown[] {
  const out: unknown[] = [];
  const push = fuseSteps(
    steps,
    (record) => {
      out.push(record);
    },
    tagErrors,
  );
  for (let i = 0; i < records.length; i++) push(records[i]);
  return out;
}

/** `sink`, marking an error it throws with `streamId` unless a later step marked it already. */
function taggedSink(sink: RecordSink<unknown>, streamId: number): RecordSink<unknown> {
  return (record) => {
    try {
      sink(record);
    } catch (error) {
      tagStreamId(error, streamId);
      throw error;
    }
  };
}

/**
 * Marks `error` with the id of the operator that threw it (`sluiceStreamId`), unless it is
 * marked already (by an operator nearer to where it was thrown).
 *
 * @example
 * tagStreamId(error, 7);
 */
export function tagStreamId(error: unknown, streamId: number): void {
  if (typeof error === "object" && error !== null && !("sluiceStreamId" in error)) {
    (error as { sluiceStreamId?: number }).sluiceStreamId = streamId;
  }
}
