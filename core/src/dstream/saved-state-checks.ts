import { SluiceError } from "../errors/sluice-error.js";
import type { SavedBatch, SavedPairs } from "./stateful-operator.js";

/**
 * The checks a stateful operator runs on the state a checkpoint gives it before restoring any of
 * it. A checkpoint passes its checksum whatever program wrote it; state of the wrong shape (a
 * file edited by hand, written by another job, or by a bug) must be refused as corrupt — so the
 * previous checkpoint is used — never restored as "no state" or left to fail with a TypeError.
 */

/**
 * The error for saved state of the wrong shape.
 *
 * @example
 * throw stateShapeError("updateStateByKey state", "pairs is not a list");
 */
export function stateShapeError(what: string, problem: string): SluiceError {
  return new SluiceError(
    "SLUICE_CHECKPOINT_CORRUPT",
    `the checkpoint's ${what} does not have the shape this operator saves: ${problem}`,
  );
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value);

/**
 * Checks saved batches (`saveBatches`): a list of `{ time, partitions }`, partitions a list of
 * lists or `null`; with `pairs`, every record a `[key, value]` pair.
 *
 * @example
 * checkSavedBatches(state, "window state", { pairs: false });
 */
export function checkSavedBatches(
  value: unknown,
  what: string,
  options: { readonly pairs: boolean },
): asserts value is SavedBatch<unknown>[] {
  if (!Array.isArray(value)) throw stateShapeError(what, "it is not a list of batches");
  for (const [index, batch] of value.entries()) {
    if (!isRecord(batch) || !isTime(batch.time)) {
      throw stateShapeError(what, `batch ${index} has no integer time`);
    }
    const { partitions } = batch;
    if (partitions === null) continue;
    if (!Array.isArray(partitions) || !partitions.every((partition) => Array.isArray(partition))) {
      throw stateShapeError(
        what,
        `the partitions of the batch at ${batch.time} are not a list of lists`,
      );
    }
    if (options.pairs && !partitions.every((partition: unknown[]) => partition.every(isPair))) {
      throw stateShapeError(
        what,
        `the batch at ${batch.time} holds a record that is not a [key, value] pair`,
      );
    }
  }
}

/**
 * Checks saved `[key, state]` pairs (`savePairs`): `{ time, pairs }`, `time` absent only when
 * nothing was saved.
 *
 * @example
 * checkSavedPairs(state, "updateStateByKey state");
 */
export function checkSavedPairs(
  value: unknown,
  what: string,
): asserts value is SavedPairs<unknown, unknown> {
  if (!isRecord(value)) throw stateShapeError(what, "it is not an object");
  if (!("time" in value) || !("pairs" in value)) {
    throw stateShapeError(what, "it has no time and pairs");
  }
  if (value.time === undefined) {
    if (value.pairs !== null) {
      throw stateShapeError(what, "it holds pairs without a batch time");
    }
    return;
  }
  if (!isTime(value.time)) throw stateShapeError(what, "time is not an integer");
  if (value.pairs === null) return;
  if (!Array.isArray(value.pairs) || !value.pairs.every(isPair)) {
    throw stateShapeError(what, "pairs is not a list of [key, state] pairs");
  }
}

/**
 * Checks saved keyed states with their update times (`mapWithState`): `{ time, entries }`, each
 * entry `[key, state, updatedAt]`.
 *
 * @example
 * checkSavedTimedStates(state, "mapWithState state");
 */
export function checkSavedTimedStates(value: unknown, what: string): void {
  if (!isRecord(value) || !("time" in value)) {
    throw stateShapeError(what, "it is not an object with a time and entries");
  }
  if (!Array.isArray(value.entries)) throw stateShapeError(what, "entries is not a list");
  if (value.time === undefined) {
    if (value.entries.length > 0)
      throw stateShapeError(what, "it holds entries without a batch time");
    return;
  }
  if (!isTime(value.time)) throw stateShapeError(what, "time is not an integer");
  for (const entry of value.entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3 || typeof entry[2] !== "number") {
      throw stateShapeError(what, "an entry is not [key, state, updatedAt]");
    }
  }
}

/**
 * Checks the saved state of a named window (`NamedWindowState`): kernel snapshots per key
 * family, the ids of other keys, and how far the panes were folded.
 *
 * @example
 * checkSavedNamedWindow(state, "reduceByKeyAndWindow state");
 */
export function checkSavedNamedWindow(value: unknown, what: string): void {
  if (!isRecord(value)) throw stateShapeError(what, "it is not an object");
  const { aggregators, otherKeys, nextOtherId, foldedThrough } = value;
  if (
    !Array.isArray(aggregators) ||
    !aggregators.every(
      (entry: unknown) =>
        isRecord(entry) && typeof entry.family === "string" && entry.snapshot instanceof Uint8Array,
    )
  ) {
    throw stateShapeError(what, "aggregators is not a list of { family, snapshot } entries");
  }
  if (
    !Array.isArray(otherKeys) ||
    !otherKeys.every(
      (entry: unknown) => Array.isArray(entry) && entry.length === 2 && isTime(entry[0]),
    )
  ) {
    throw stateShapeError(what, "otherKeys is not a list of [id, key] pairs");
  }
  if (!isTime(nextOtherId)) throw stateShapeError(what, "nextOtherId is not an integer");
  if (!isTime(foldedThrough)) throw stateShapeError(what, "foldedThrough is not an integer");
}

function isPair(record: unknown): boolean {
  return Array.isArray(record) && record.length === 2;
}
