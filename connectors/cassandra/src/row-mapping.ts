import { InvalidRecordError, type SinkRecord } from "sluice/connector";
import { COLUMN_PATTERN } from "./identifiers.js";
import type { MapRecord, RecordPosition, Row } from "./sink-config.js";

/** Which column is read from where in a row. */
export interface ColumnSource {
  readonly column: string;
  /** Field names leading to the value (`["user", "id"]` for `user.id`). */
  readonly path: readonly string[];
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A `SLUICE_INVALID_RECORD` error naming the record's index, batch and partition, and carrying
 * the index so that a job with a dead-letter sink sends that record there and writes the rest.
 *
 * @example
 * throw invalidRecord(position, "has no value for the key column \"id\"");
 */
export function invalidRecord(
  position: RecordPosition,
  problem: string,
  cause?: unknown,
): InvalidRecordError {
  return new InvalidRecordError(
    `Record ${position.index} of the batch at ${position.batchTime} (partition ${position.partition}) ${problem}`,
    cause === undefined ? { recordIndex: position.index } : { recordIndex: position.index, cause },
  );
}

/**
 * The row a record stands for: `mapRecord(record, position)` when given, else the record's
 * value decoded as a JSON object.
 *
 * @example
 * const row = rowOf({ value: encode('{"word":"a","count":2}') }, position); // { word: "a", count: 2 }
 */
export function rowOf(record: SinkRecord, position: RecordPosition, mapRecord?: MapRecord): Row {
  let row: unknown;
  if (mapRecord !== undefined) {
    try {
      row = mapRecord(record, position);
    } catch (error) {
      throw invalidRecord(
        position,
        `could not be mapped to a row: mapRecord threw ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    if (!isPlainObject(row)) {
      throw invalidRecord(
        position,
        "could not be mapped to a row: mapRecord must return an object of column values.",
      );
    }
    return row;
  }
  try {
    row = JSON.parse(decoder.decode(record.value));
  } catch (error) {
    throw invalidRecord(
      position,
      `is not JSON (${error instanceof Error ? error.message : String(error)}); give the sink JSON objects or a mapRecord function.`,
      error,
    );
  }
  if (!isPlainObject(row)) {
    throw invalidRecord(
      position,
      `is JSON but not an object (${Array.isArray(row) ? "an array" : row === null ? "null" : typeof row}); each record must be one row as a JSON object.`,
    );
  }
  return row;
}

/**
 * The columns of a row when none are configured: each of its fields, by name (sorted), each
 * name checked so that no field can smuggle CQL into the statement.
 *
 * @example
 * columnsOfRow({ b: 1, a: 2 }, position); // [{ column: "a", path: ["a"] }, { column: "b", path: ["b"] }]
 */
export function columnsOfRow(row: Row, position: RecordPosition): ColumnSource[] {
  return Object.keys(row)
    .sort()
    .map((name) => {
      if (!COLUMN_PATTERN.test(name)) {
        throw invalidRecord(
          position,
          `has the field ${JSON.stringify(name)}, which is not a valid column name (a letter, then letters, digits or _); rename it, or map columns explicitly with \`columns\`.`,
        );
      }
      return { column: name, path: [name] };
    });
}

/**
 * The value at `path` in a row, or undefined where a field is missing (written as "unset":
 * the column keeps what it had). Only the row's own fields count: a path such as
 * `"constructor"` or `"meta.toString"` must not read what every object inherits.
 *
 * @example
 * valueAt({ user: { id: 7 } }, ["user", "id"]); // 7
 */
export function valueAt(row: Row, path: readonly string[]): unknown {
  let current: unknown = row;
  for (const field of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, field)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[field];
  }
  return current;
}

function isPlainObject(value: unknown): value is Row {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}
