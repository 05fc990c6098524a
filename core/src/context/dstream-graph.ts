import type { DStream } from "../dstream/dstream.js";
import type { ForEachDStream } from "../dstream/for-each-dstream.js";
import type { InputDStream } from "../input/input-dstream.js";

/**
 * The inputs and output operations of a context (Spark's `DStreamGraph`): set up at start (zero
 * time, remember durations) and cleaned after every batch.
 *
 * @example
 * graph.start(0);
 */
export class DStreamGraph {
  readonly inputs: InputDStream<unknown>[] = [];
  readonly outputs: ForEachDStream<unknown>[] = [];
  /** What `StreamingContext.remember` asked for, if anything. */
  rememberDuration: number | undefined;
  private zero: number | undefined;

  /** The zero time once started. */
  get zeroTime(): number | undefined {
    return this.zero;
  }

  addInput(input: InputDStream<unknown>): number {
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
