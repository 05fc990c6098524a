import type { DStream } from "./dstream.js";
import type { ForEachDStream } from "./for-each-dstream.js";

/** What the graph and the scheduler need of an input stream (`InputDStream` is one). */
export interface GraphInput extends DStream<unknown> {
  /** The input's id in its context (order of creation, from 0). */
  readonly inputId: number;
  /** Starts receiving. */
  start(): Promise<void>;
  /** Stops receiving; received data stays for draining. */
  stop(): Promise<void>;
  /** True while data has been received that no batch holds yet. */
  hasPendingData(): boolean;
  /** True once the input can bring no more data. */
  hasEnded(): boolean;
  /** Told when every output of the batch at `time` has run. */
  batchCompleted(time: number, failure: unknown): void;
}

/**
 * The inputs and output operations of a context (Spark's `DStreamGraph`): set up at start (zero
 * time, remember durations) and cleaned after every batch.
 *
 * @example
 * graph.start(0);
 */
export class DStreamGraph {
  readonly inputs: GraphInput[] = [];
  readonly outputs: ForEachDStream<unknown>[] = [];
  /** What `StreamingContext.remember` asked for, if anything. */
  rememberDuration: number | undefined;
  private zero: number | undefined;
  // Every stream an output depends on, once started.
  private streams: DStream<unknown>[] = [];

  /** The zero time once started. */
  get zeroTime(): number | undefined {
    return this.zero;
  }

  addInput(input: GraphInput): number {
    this.inputs.push(input);
    return this.inputs.length - 1;
  }

  addOutput(output: ForEachDStream<unknown>): number {
    this.outputs.push(output);
    return this.outputs.length - 1;
  }

  /** Initializes every stream with the zero time and propagates remember durations. */
  start(zeroTime: number): void {
    this.zero = zeroTime;
    for (const output of this.outputs) output.initialize(zeroTime);
    for (const input of this.inputs) input.initialize(zeroTime);
    for (const output of this.outputs) {
      output.remember(this.rememberDuration, this.rememberDuration);
    }
    for (const input of this.inputs) input.remember(this.rememberDuration, this.rememberDuration);
    this.streams = streamsAbove(this.outputs);
  }

  /**
   * The streams to compute at `time` besides what the outputs read then: the parents whose batch
   * at `time` a window reads at a later time, in the order they were made. Computed at their own
   * tick, from what the streams above them hold for that tick only, a window never recomputes
   * an old batch from an input that has moved on (which would give an empty or another batch).
   *
   * @example
   * for (const stream of graph.parentsToComputeAt(3000)) await stream.computeAhead(3000);
   */
  parentsToComputeAt(time: number): DStream<unknown>[] {
    const found = new Set<DStream<unknown>>();
    for (const stream of this.streams) {
      for (const parent of stream.parentsReadLater(time)) {
        if (parent.isTimeValid(time)) found.add(parent);
      }
    }
    return [...found].sort((a, b) => a.id - b.id);
  }

  /**
   * Forgets what every stream no longer needs after the batch at `time`, visiting each stream
   * once: a stream below several outputs, or below both sides of a union or join, is one stream
   * however many paths lead to it (walked path by path, a ladder of unions doubles the work with
   * every rung).
   */
  clearMetadata(time: number): void {
    for (const stream of new Set<DStream<unknown>>([...this.streams, ...this.inputs])) {
      stream.clearMetadata(time);
    }
  }
}

/** Every stream `outputs` depend on, the outputs included, each once. */
function streamsAbove(outputs: ReadonlyArray<DStream<unknown>>): DStream<unknown>[] {
  const seen = new Set<DStream<unknown>>();
  const pending: DStream<unknown>[] = [...outputs];
  for (let stream = pending.pop(); stream !== undefined; stream = pending.pop()) {
    if (seen.has(stream)) continue;
    seen.add(stream);
    pending.push(...stream.dependencies);
  }
  return [...seen];
}
