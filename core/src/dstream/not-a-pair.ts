import { SluiceError } from "../errors/sluice-error.js";

/**
 * The error for a record that a pair operation (`reduceByKey`, `combineByKey`, `groupByKey`,
 * joins, windows and state by key) reads as `[key, value]` but is not an array: a string would
 * otherwise be read as its first two characters, an object as two `undefined`s. Names the stream
 * and the record, and says how to make pairs.
 *
 * @example
 * if (!Array.isArray(record)) throw notAPair(record, "ShuffledDStream (stream 3)");
 */
export function notAPair(record: unknown, stream: string): SluiceError {
  return new SluiceError(
    "SLUICE_INVALID_RECORD",
    `${stream} is a pair operation (reduceByKey, combineByKey, groupByKey, join, a window or state by key) and reads each record as a [key, value] array; got ${describeRecord(record)}. Make pairs first, such as .map((word) => [word, 1])`,
  );
}

function describeRecord(record: unknown): string {
  let text: string;
  try {
    text =
      typeof record === "string"
        ? `the string ${JSON.stringify(record)}`
        : typeof record === "object" && record !== null
          ? `the object ${JSON.stringify(record) ?? String(record)}`
          : `the ${typeof record} ${String(record)}`;
  } catch {
    text = `a ${typeof record}`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
