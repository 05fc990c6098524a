import type { SourceRecordColumns } from "../connector/record-columns.js";

/** Records received together, with what to call once the batch holding them has been output. */
export interface ReceivedBlock<T> {
  readonly records: ReadonlyArray<T>;
  /**
   * The same records as a byte batch, when they came so: the batch keeps them as columns and
   * `records` is made only if something reads it.
   */
  readonly columns?: SourceRecordColumns;
  /** Acknowledges the block: called with nothing on success, with the error on failure. */
  readonly ack?: (error?: unknown) => void;
}

/**
 * Records received since the last batch tick, in arrival order (Spark's block generator and
 * tracker in one): receivers append, the batch tick takes everything.
 *
 * @example
 * buffer.push(["a", "b"]);
 * const blocks = buffer.take(); // the batch's blocks; the buffer is empty again
 */
export class BlockBuffer<T> {
  private blocks: ReceivedBlock<T>[] = [];

  /** Appends records (an empty array is ignored unless it carries an ack). */
  push(records: ReadonlyArray<T>, ack?: (error?: unknown) => void): void {
    if (records.length === 0 && ack === undefined) return;
    this.blocks.push(ack === undefined ? { records } : { records, ack });
  }

  /**
   * Appends a byte batch (its records are made only if something reads them).
   *
   * @example
   * buffer.pushColumns(columns, (error) => result.ack(error));
   */
  pushColumns(columns: SourceRecordColumns, ack?: (error?: unknown) => void): void {
    if (columns.length === 0 && ack === undefined) return;
    const block = {
      columns,
      get records(): ReadonlyArray<T> {
        return columns.records() as unknown as ReadonlyArray<T>;
      },
    };
    this.blocks.push(ack === undefined ? block : Object.assign(block, { ack }));
  }

  /** Everything received so far, leaving the buffer empty. */
  take(): ReceivedBlock<T>[] {
    const blocks = this.blocks;
    this.blocks = [];
    return blocks;
  }

  /** Blocks waiting for the next batch that carry an acknowledgement. */
  get heldAcknowledgements(): number {
    let held = 0;
    for (const block of this.blocks) if (block.ack !== undefined) held++;
    return held;
  }

  /** True when records wait for the next batch. */
  hasPending(): boolean {
    return this.blocks.length > 0;
  }
}
