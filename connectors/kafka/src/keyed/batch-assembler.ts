/** A record of a keyed partition's repartition log, as the keyed side reads it. */
export type ExchangeRecord =
  | {
      readonly kind: "chunk";
      /** The record's offset in the repartition partition. */
      readonly offset: bigint;
      /** The batch time the map side wrote it for. */
      readonly time: number;
      readonly bytes: Uint8Array;
    }
  | {
      readonly kind: "marker";
      readonly offset: bigint;
      /** The map side's batch: `input` has given everything it gives up to this time. */
      readonly time: number;
      /** The input partition, `"<topic>-<partition>"`. */
      readonly input: string;
    };

/** A chunk read but not yet handed out in a batch, with the time it was written for. */
export interface PendingChunk {
  readonly time: number;
  readonly bytes: Uint8Array;
}

/**
 * Everything a keyed partition's assembly depends on, as of some point in its log: restoring it
 * and reading on from `position` gives the same batches as reading on without a restore.
 */
export interface AssemblerSnapshot {
  /** The offset after the last record accounted for; undefined: from the log's start. */
  readonly position: bigint | undefined;
  /** The last batch time handed out; undefined: none yet. */
  readonly completed: number | undefined;
  /** Chunks read, not yet in a batch, in log order. */
  readonly pending: readonly PendingChunk[];
  /** The highest marker time seen per input partition. */
  readonly markers: ReadonlyMap<string, number>;
  /** Every marker time seen that is after `completed`, ascending (batch times to come). */
  readonly times: readonly number[];
}

/** One complete batch of a keyed partition: its time and its chunks in log order. */
export interface AssembledBatch {
  readonly time: number;
  readonly chunks: readonly Uint8Array[];
}

/**
 * Cuts one keyed partition's repartition log into complete batches. Fed the partition's
 * committed records in log order; a batch is complete once every input partition of the job has
 * a marker at or after its time. The next batch is the earliest time after the last one handed
 * out among the markers and chunks seen; a chunk written for a time already handed out (its
 * input moved to a process whose clock is behind) joins the next batch handed out. Every choice
 * depends only on the snapshot and the records fed after it, so a replay from a snapshot hands
 * out the same batches with the same chunks.
 *
 * @example
 * const assembler = new BatchAssembler(["orders-0", "orders-1"]);
 * assembler.feed({ kind: "chunk", offset: 0n, time: 1000, bytes });
 * assembler.feed({ kind: "marker", offset: 1n, time: 1000, input: "orders-0" });
 * assembler.feed({ kind: "marker", offset: 2n, time: 1000, input: "orders-1" });
 * assembler.takeComplete(); // { time: 1000, chunks: [bytes] }
 */
export class BatchAssembler {
  readonly #inputs: readonly string[];
  #position: bigint | undefined;
  #completed: number | undefined;
  #pending: PendingChunk[];
  readonly #markers: Map<string, number>;
  /** Marker times after `#completed`, ascending, without repeats. */
  #times: number[];
  /** The lowest marker maximum over every input (undefined while one has none). */
  #low: number | undefined;

  /**
   * @param inputs every input partition of the job, `"<topic>-<partition>"`.
   * @param snapshot where a restored partition continues from.
   */
  constructor(inputs: readonly string[], snapshot?: AssemblerSnapshot) {
    this.#inputs = [...new Set(inputs)];
    this.#position = snapshot?.position;
    this.#completed = snapshot?.completed;
    this.#pending = (snapshot?.pending ?? []).map(({ time, bytes }) => ({
      time,
      bytes: ownBytes(bytes),
    }));
    this.#markers = new Map(snapshot?.markers ?? []);
    this.#times = [...(snapshot?.times ?? [])];
    this.#low = this.#lowestMarker();
  }

  /** The offset to read from next; undefined: the log's start. */
  get position(): bigint | undefined {
    return this.#position;
  }

  /** The last batch time handed out, if any. */
  get completed(): number | undefined {
    return this.#completed;
  }

  /**
   * Accounts for one record. A record before `position` was accounted for already (a fetch
   * that overlaps a restore) and is ignored.
   */
  feed(record: ExchangeRecord): void {
    if (this.#position !== undefined && record.offset < this.#position) return;
    this.#position = record.offset + 1n;
    if (record.kind === "chunk") {
      this.#pending.push({ time: record.time, bytes: record.bytes });
      return;
    }
    const previous = this.#markers.get(record.input);
    if (previous !== undefined && previous >= record.time) return;
    this.#markers.set(record.input, record.time);
    if (this.#completed === undefined || record.time > this.#completed) {
      insertSorted(this.#times, record.time);
    }
    this.#low = this.#lowestMarker();
  }

  /** The next batch when it is complete (and hands it out), else undefined. */
  takeComplete(): AssembledBatch | undefined {
    const time = this.#nextTime();
    if (time === undefined || this.#low === undefined || time > this.#low) return undefined;
    const chunks: Uint8Array[] = [];
    const rest: PendingChunk[] = [];
    for (const chunk of this.#pending) {
      if (chunk.time <= time) chunks.push(chunk.bytes);
      else rest.push(chunk);
    }
    this.#pending = rest;
    this.#times = this.#times.filter((t) => t > time);
    this.#completed = time;
    return { time, chunks };
  }

  /** The state as of now (copies). */
  snapshot(): AssemblerSnapshot {
    return {
      position: this.#position,
      completed: this.#completed,
      pending: [...this.#pending],
      markers: new Map(this.#markers),
      times: [...this.#times],
    };
  }

  // The earliest time after the last batch among the marker times and the pending chunks.
  #nextTime(): number | undefined {
    let next = this.#times[0];
    const completed = this.#completed;
    for (const { time } of this.#pending) {
      if (completed !== undefined && time <= completed) continue;
      if (next === undefined || time < next) next = time;
    }
    return next;
  }

  #lowestMarker(): number | undefined {
    let low: number | undefined;
    for (const input of this.#inputs) {
      const time = this.#markers.get(input);
      if (time === undefined) return undefined;
      if (low === undefined || time < low) low = time;
    }
    return low;
  }
}

// A restored pending chunk is a view into its changelog record, and that into the fetch
// response it came in (the state's bytes and more: megabytes); it waits here for its batch's
// markers, so it is copied out once into memory of its own. A chunk already owning its memory
// (fetched from the repartition log, or from another assembler's snapshot) is kept as it is.
function ownBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  const own = new Uint8Array(Buffer.allocUnsafeSlow(bytes.byteLength).buffer, 0, bytes.byteLength);
  own.set(bytes);
  return own;
}

function insertSorted(times: number[], time: number): void {
  let index = times.length;
  while (index > 0 && (times[index - 1] as number) > time) index--;
  if (times[index - 1] !== time) times.splice(index, 0, time);
}
