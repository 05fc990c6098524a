import type { Batch } from "../dstream/batch.js";
import type { ScopeHolder } from "../dstream/stream-scope.js";
import { sliceIntoPartitions } from "../util/slice-into-partitions.js";
import { BlockBuffer, type ReceivedBlock } from "./block-buffer.js";
import { InputDStream } from "./input-dstream.js";
import { alreadyAttached, type Receiver } from "./receiver.js";
import { ReceiverSupervisor } from "./receiver-supervisor.js";

/**
 * A stream fed by a `Receiver` (Spark's `ReceiverInputDStream`): at each batch tick, everything
 * stored since the previous tick becomes the batch (an empty batch when nothing came).
 *
 * @example
 * const stream = ctx.receiverStream(new MyReceiver());
 */
export class ReceiverInputDStream<T> extends InputDStream<T> {
  private readonly buffer = new BlockBuffer<T>();
  private readonly supervisor: ReceiverSupervisor<T>;
  private readonly allocated = new Map<number, ReceivedBlock<T>[]>();
  private lastAllocated = Number.NEGATIVE_INFINITY;

  constructor(context: ScopeHolder, receiver: Receiver<T>, restartDelayMs?: number) {
    // Checked before registering with the context, so a refused receiver leaves no input behind.
    if (receiver.isAttached()) throw alreadyAttached(receiver.name);
    super(context);
    this.supervisor = new ReceiverSupervisor(
      receiver,
      this.buffer,
      this.inputId,
      context.scope.listenerBus,
      restartDelayMs,
    );
  }

  override start(): Promise<void> {
    return this.supervisor.start();
  }

  override stop(): Promise<void> {
    return this.supervisor.stopByContext();
  }

  override hasPendingData(): boolean {
    return this.buffer.hasPending();
  }

  override batchCompleted(time: number, failure: unknown): void {
    for (const [batchTime, blocks] of this.allocated) {
      if (batchTime > time) continue;
      this.allocated.delete(batchTime);
      for (const block of blocks) block.ack?.(failure);
    }
  }

  protected async computeInput(time: number): Promise<Batch<T>> {
    // A time at or before the last tick (recomputed after being forgotten) has nothing left.
    if (time <= this.lastAllocated) return { time, partitions: [] };
    this.lastAllocated = time;
    const blocks = this.buffer.take();
    if (blocks.some((block) => block.ack !== undefined)) this.allocated.set(time, blocks);
    const records = blocks.flatMap((block) => block.records);
    return {
      time,
      partitions: sliceIntoPartitions(records, this.scope.defaultParallelism),
    };
  }
}
