import { SluiceError } from "../errors/sluice-error.js";

/** Where one input stood when a checkpoint was written. */
export interface InputCheckpoint {
  /** The input's stable name (a connector source's id, such as `source:file#1`). */
  readonly name: string;
  /** Replayable sources: the offset of the last record used, per partition. */
  readonly offsets: ReadonlyMap<string, string>;
  /** Sources behind the write-ahead log: the last log entry used (entries after it are replayed). */
  readonly walSequence: number | undefined;
  /**
   * Sources behind the write-ahead log, with `recordId`: the ids of records logged before a
   * crash whose copies the broker may still send (their acknowledgement may have died with the
   * run), each with the running time in ms it has been awaited so far. Absent in checkpoints
   * of older Sluice versions and when no id is awaited.
   */
  readonly awaitedIds?: ReadonlyMap<string, number> | undefined;
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
  if (!isObject(value)) throw malformed(file, ["it is not an object"]);
  const data = value as Partial<Record<keyof CheckpointData, unknown>>;
  const problems: string[] = [];
  if (typeof data.batchInterval !== "number" || !(data.batchInterval > 0)) {
    problems.push("batchInterval is not a positive number");
  }
  for (const field of ["zeroTime", "time", "writtenAt", "firstStartedAt"] as const) {
    if (!isInteger(data[field])) problems.push(`${field} is not an integer`);
  }
  if (typeof data.appName !== "string") problems.push("appName is not a string");
  if (!Array.isArray(data.pendingBatches) || !data.pendingBatches.every(isInteger)) {
    problems.push("pendingBatches is not a list of batch times");
  }
  if (!Array.isArray(data.inputs)) problems.push("inputs is not a list");
  else {
    for (const [index, input] of (data.inputs as unknown[]).entries()) {
      const problem = inputCheckpointProblem(input);
      if (problem !== undefined) problems.push(`input ${index} ${problem}`);
    }
  }
  if (!Array.isArray(data.operators)) problems.push("operators is not a list");
  else {
    for (const [index, operator] of (data.operators as unknown[]).entries()) {
      const problem = operatorCheckpointProblem(operator);
      if (problem !== undefined) problems.push(`operator ${index} ${problem}`);
    }
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
  if (!isObject(value)) throw malformed(file, ["it is not an object"]);
  const intent = value as Partial<Record<keyof BatchIntent, unknown>>;
  if (!isInteger(intent.time) || !Array.isArray(intent.inputs)) {
    throw malformed(file, ["it has no batch time and inputs"]);
  }
  const problems: string[] = [];
  for (const [index, extent] of (intent.inputs as unknown[]).entries()) {
    const problem = inputExtentProblem(extent);
    if (problem !== undefined) problems.push(`input ${index} ${problem}`);
  }
  if (problems.length > 0) throw malformed(file, problems);
  return intent as BatchIntent;
}

function inputCheckpointProblem(input: unknown): string | undefined {
  if (!isObject(input)) return "is not an object";
  const { name, offsets, walSequence, awaitedIds } = input as Record<string, unknown>;
  if (typeof name !== "string") return "has no name";
  if (
    !(offsets instanceof Map) ||
    ![...offsets].every(([key, offset]) => typeof key === "string" && typeof offset === "string")
  ) {
    return `(${name}) has no map of partition offsets`;
  }
  if (walSequence !== undefined && !isSequence(walSequence)) {
    return `(${name}) has a write-ahead log position that is not a sequence number`;
  }
  if (
    awaitedIds !== undefined &&
    !(
      awaitedIds instanceof Map &&
      [...awaitedIds].every(
        ([id, ms]) => typeof id === "string" && typeof ms === "number" && ms >= 0,
      )
    )
  ) {
    return `(${name}) has awaited record ids that are not a map of ids to running times`;
  }
  return undefined;
}

function operatorCheckpointProblem(operator: unknown): string | undefined {
  if (!isObject(operator)) return "is not an object";
  const { name, derivedName, kind, fingerprint, state } = operator as Record<string, unknown>;
  if (typeof name !== "string") return "has no name";
  if (typeof derivedName !== "boolean" || typeof kind !== "string") {
    return `(${name}) has no kind`;
  }
  if (typeof fingerprint !== "string") return `(${name}) has no settings fingerprint`;
  if (!(state instanceof Uint8Array)) return `(${name}) has no state bytes`;
  return undefined;
}

function inputExtentProblem(extent: unknown): string | undefined {
  if (!isObject(extent)) return "is not an object";
  const { name, partitions, wal } = extent as Record<string, unknown>;
  if (typeof name !== "string") return "has no name";
  if (
    !Array.isArray(partitions) ||
    !partitions.every(
      (entry: unknown) =>
        Array.isArray(entry) &&
        entry.length === 3 &&
        typeof entry[0] === "string" &&
        isSequence(entry[1]) &&
        typeof entry[2] === "string",
    )
  ) {
    return `(${name}): partitions is not a list of [partition, count, last offset]`;
  }
  if (
    wal !== undefined &&
    !(
      Array.isArray(wal) &&
      wal.length === 2 &&
      isSequence(wal[0]) &&
      isSequence(wal[1]) &&
      wal[0] <= wal[1]
    )
  ) {
    return `(${name}): the write-ahead log range is not [first, last]`;
  }
  return undefined;
}

const isObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isInteger = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value);

const isSequence = (value: unknown): value is number => isInteger(value) && value >= 0;

function malformed(file: string, problems: string[]): SluiceError {
  return new SluiceError(
    "SLUICE_CHECKPOINT_CORRUPT",
    `${file} passed its checksum but does not hold a Sluice checkpoint: ${problems.join("; ")}`,
  );
}
