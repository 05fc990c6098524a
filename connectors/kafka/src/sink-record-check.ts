import type { SinkRecord } from "sluice/connector";

/**
 * What is wrong with a record the Kafka sink is given, as the end of a sentence naming the
 * record ("has a value that is ..."), or undefined when it can be produced. The types say
 * bytes, but records come from user functions, JavaScript ones too: a text value, a null
 * header or a string key would otherwise fail deep in kafkajs with a TypeError naming nothing.
 *
 * @example
 * sinkRecordProblem({ value: "text" } as never); // 'has a value that is a string, not bytes: ...'
 */
export function sinkRecordProblem(record: SinkRecord): string | undefined {
  if (typeof record !== "object" || record === null) {
    return `is ${kindOf(record)}, not a record ({ value, key?, headers?, timestampMs?, tombstone? })`;
  }
  if ((record.value as unknown) === null) {
    return "has a null value: give a Uint8Array, or for a tombstone (a delete in a compacted topic) an empty value and tombstone: true";
  }
  if (!(record.value instanceof Uint8Array)) {
    return `has a value that is ${kindOf(record.value)}, not bytes: give a Uint8Array (text through TextEncoder)`;
  }
  if (record.key !== undefined && !(record.key instanceof Uint8Array)) {
    return `has a key that is ${kindOf(record.key)}, not bytes: give a Uint8Array, or no key`;
  }
  const { headers, timestampMs, tombstone } = record;
  if (tombstone !== undefined && typeof tombstone !== "boolean") {
    return `has a tombstone that is ${kindOf(tombstone)}, not true or false`;
  }
  if (tombstone === true && record.value.byteLength > 0) {
    return `is a tombstone with a value of ${record.value.byteLength} bytes: a tombstone has none; give an empty value, or drop tombstone`;
  }
  if (headers !== undefined) {
    if (typeof headers !== "object" || headers === null) {
      return `has headers that are ${kindOf(headers)}, not an object of byte values`;
    }
    for (const [name, value] of Object.entries(headers)) {
      if (!(value instanceof Uint8Array)) {
        return `has a header "${name}" that is ${kindOf(value)}, not bytes: header values must be Uint8Arrays (an empty one for a header without a value)`;
      }
    }
  }
  if (timestampMs !== undefined && !Number.isFinite(timestampMs)) {
    return `has a timestampMs that is ${kindOf(timestampMs)}, not a finite number of milliseconds`;
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (typeof value === "number") return `the number ${String(value)}`;
  if (typeof value === "string") return "a string";
  if (Array.isArray(value)) return "an array";
  return `a value of type ${typeof value}`;
}
