import type { SourceRecord } from "sluice";

/** One temperature reading of one sensor, as devices publish it (JSON). */
export interface Reading {
  readonly sensor: string;
  /** When the sensor measured, in milliseconds since the epoch. */
  readonly ts: number;
  /** Degrees Celsius. */
  readonly temperature: number;
}

/** A record read as a reading, or why it is not one and where it came from. */
export type ParsedReading =
  | { readonly ok: true; readonly reading: Reading }
  | { readonly ok: false; readonly problem: string; readonly where: string };

const decoder = new TextDecoder();

/**
 * Reads a record's value as a reading: `{ "sensor": "roof", "ts": 1736928000000, "temperature": 3.4 }`
 * (`ts` may also be an ISO 8601 text). Anything else is returned as a rejection saying what is
 * wrong and where the record came from, so one broken device cannot stop the ingestion.
 *
 * @example
 * const parsed = parseReading(record);
 * if (parsed.ok) use(parsed.reading); else warn(`${parsed.where}: ${parsed.problem}`);
 */
export function parseReading(record: SourceRecord): ParsedReading {
  const where = `${record.partition} at offset ${record.offset}`;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(record.value));
  } catch {
    return { ok: false, where, problem: "is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, where, problem: "is not a JSON object" };
  }
  const { sensor, ts, temperature } = value as Record<string, unknown>;
  if (typeof sensor !== "string" || sensor.trim() === "") {
    return { ok: false, where, problem: `sensor must be a non-empty text, got ${show(sensor)}` };
  }
  const time = typeof ts === "string" ? Date.parse(ts) : ts;
  if (typeof time !== "number" || !Number.isFinite(time)) {
    return {
      ok: false,
      where,
      problem: `ts must be epoch milliseconds or ISO 8601, got ${show(ts)}`,
    };
  }
  if (typeof temperature !== "number" || !Number.isFinite(temperature)) {
    return {
      ok: false,
      where,
      problem: `temperature of ${sensor} must be a number, got ${show(temperature)}`,
    };
  }
  return { ok: true, reading: { sensor, ts: time, temperature } };
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
