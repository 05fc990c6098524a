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
    for (const output of this.outputs) output.remember(this.rememberDuration);
    for (const input of this.inputs) input.remember(this.rememberDuration);
  }

  /** Forgets what every stream no longer needs after the batch at `time`. */
  clearMetadata(time: number): void {
    const streams: DStream<unknown>[] = [...this.outputs, ...this.inputs];
    for (const stream of streams) stream.clearMetadata(time);
  }
}
