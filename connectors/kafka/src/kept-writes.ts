import type { Message } from "kafkajs";

/** Writes a lost transaction held, to make again in the next one. */
export interface LostWrites {
  readonly groups: readonly Message[][];
  /** The first batch whose outputs they are (NaN when unknown). */
  readonly batchTime: number;
}

/** Nothing written yet: a transaction lost before its first write loses nothing. */
export const NO_WRITES: LostWrites = Object.freeze({ groups: [], batchTime: Number.NaN });

/**
 * The messages written into a paired transaction so far, kept until it commits or aborts: a
 * transaction lost with its connection before its commit was asked for is made again on a new
 * producer with them (Kafka aborted the lost one, or does once the new producer starts). Past
 * `maxBytes` of values and keys nothing more is kept, and such a transaction cannot be made
 * again: its loss fails the batch.
 *
 * @example
 * const kept = new KeptWrites(64 * 2 ** 20, batchTime);
 * kept.add(groups);
 * kept.lost(); // { groups, batchTime }, or undefined past the bound
 */
export class KeptWrites {
  #groups: Message[][] | undefined = [];
  #bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly batchTime: number,
  ) {}

  /** Keeps the groups of one write, sent whole into the transaction. */
  add(groups: readonly Message[][]): void {
    if (this.#groups === undefined) return;
    for (const messages of groups) {
      for (const message of messages) this.#bytes += byteLength(message);
    }
    if (this.#bytes > this.maxBytes) {
      this.#groups = undefined;
      return;
    }
    this.#groups.push(...groups);
  }

  /** What to make again if the transaction is lost now; undefined when too much was written. */
  lost(): LostWrites | undefined {
    return this.#groups === undefined
      ? undefined
      : { groups: [...this.#groups], batchTime: this.batchTime };
  }
}

function byteLength(message: Message): number {
  return sizeOf(message.value) + sizeOf(message.key);
}

function sizeOf(bytes: Buffer | string | null | undefined): number {
  if (bytes === null || bytes === undefined) return 0;
  return typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
}
