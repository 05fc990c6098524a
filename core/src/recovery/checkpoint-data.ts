import { SluiceError } from "../errors/sluice-error.js";

/** Where one input stood when a checkpoint was written. */
export interface InputCheckpoint {
  /** The input's stable name (a connector source's id, such as `source:file#1`). */
  readonly name: string;
  /** Replayable sources: the offset of the last record used, per partition. */
  readonly offsets: ReadonlyMap<string, string>;
  /** Sources behind the write-ahead log: the last log entry used (entries after it are replayed). */
  readonly walSequence: number | undefined;
}

/** The saved state of one stateful operator. */
export interface OperatorCheckpoint {
  /** The stable name: given with `.name("…")`, or derived from the graph (`updateStateByKey#0`). */
  readonly name: string;
  /** True when the name was derived from the graph rather than given. */
  readonly derivedName: boolean;
  /** `updateStateByKey`, `mapWithState`, `window` or `reduceByKeyAndWindow`. */
  readonly kind: string;
  /** The operator's settings that its state depends on (window, slide, ...). */
  readonly fingerprint: string;
  /** The state, serialized with `v8.serialize`. */
  readonly state: Uint8Array;
}

/**
 * One checkpoint: after the batch at `time` was output, the time the job restarts from, where
 * every input stood, and every stateful operator's state.
 */
export interface CheckpointData {
  readonly appName: string;
  readonly batchInterval: number;
  /** The context's zero time (batch times are multiples of the interval after it). */
  readonly zeroTime: number;
  /** The last batch completed: every batch up to it was output. */
  readonly time: number;
  /** Wall-clock time of writing, for reports. */
  readonly writtenAt: number;
  /** Wall-clock time at which the job's first run started (sources that seek need it). */
  readonly firstStartedAt: number;
  /** Batches generated after `time` and not yet completed when this checkpoint was written. */
  readonly pendingBatches: readonly number[];
  readonly inputs: readonly InputCheckpoint[];
  readonly operators: readonly OperatorCheckpoint[];
}

/** What one input put into one batch, recorded before the batch runs so a replay is identical. */
export interface InputExtent {
  readonly name: string;
  /** Replayable sources: per partition, in batch order, how many records and the last offset. */
  readonly partitions: ReadonlyArray<
    readonly [partition: string, count: number, lastOffset: string]
  >;
  /** Sources behind the write-ahead log: the first and last log entries of the batch. */
  readonly wal: readonly [first: number, last: number] | undefined;
}

/** A batch generated but maybe not completed: replayed exactly after a crash. */
export interface BatchIntent {
  readonly time: number;
  readonly inputs: readonly InputExtent[];
}

/**
 * Checks that a decoded value has the shape of a `CheckpointData` (a file written by another
 * program, or a bug, must not surface as a TypeError deep in recovery).
 *
 * @example
 * const checkpoint = asCheckpointData(decodeEnvelope("checkpoint", bytes, file), file);
 */
export function asCheckpointData(value: unknown, file: string): CheckpointData {
  const data = value as Partial<CheckpointData> | null;
  const problems: string[] = [];
  if (typeof data !== "object" || data === null) throw malformed(file, ["it is not an object"]);
  for (const field of [
    "batchInterval",
    "zeroTime",
    "time",
    "writtenAt",
    "firstStartedAt",
  ] as const) {
    if (typeof data[field] !== "number") problems.push(`${field} is not a number`);
  }
  if (typeof data.appName !== "string") problems.push("appName is not a string");
  if (!Array.isArray(data.pendingBatches)) problems.push("pendingBatches is not a list");
  if (!Array.isArray(data.inputs)) problems.push("inputs is not a list");
  else if (data.inputs.some((input) => !(input?.offsets instanceof Map))) {
    problems.push("an input has no offsets map");
  }
  if (!Array.isArray(data.operators)) problems.push("operators is not a list");
  else if (data.operators.some((operator) => !(operator?.state instanceof Uint8Array))) {
    problems.push("an operator has no state bytes");
  }
  if (problems.length > 0) throw malformed(file, problems);
  return data as CheckpointData;
}

/**
 * Checks that a decoded value has the shape of a `BatchIntent`.
 *
 * @example
 * const intent = asBatchIntent(decodeEnvelope("batch", bytes, file), file);
 */
export function asBatchIntent(value: unknown, file: string): BatchIntent {
  const intent = value as Partial<BatchIntent> | null;
  if (
    typeof intent !== "object" ||
    intent === null ||
    typeof intent.time !== "number" ||
    !Array.isArray(intent.inputs)
  ) {
    throw malformed(file, ["it has no batch time and inputs"]);
  }
  return intent as BatchIntent;
}

function malformed(file: string, problems: string[]): SluiceError {
  return new SluiceError(
    "SLUICE_CHECKPOINT_CORRUPT",
    `${file} passed its checksum but does not hold a Sluice checkpoint: ${problems.join("; ")}`,
  );
}
