import { SluiceError } from "sluice/connector";
import type { AssemblerSnapshot } from "./batch-assembler.js";

/** What one commit of a keyed partition leaves in its changelog. */
export interface ChangelogEntry {
  /** The batch time the state is for. */
  readonly time: number;
  /** The core's task state (opaque bytes). */
  readonly state: Uint8Array;
  /** The exchange's own bookkeeping as of after batch `time`. */
  readonly assembly: AssemblerSnapshot;
}

const VERSION = 1;

interface Header {
  readonly time: number;
  readonly position: string | null;
  readonly completed: number | null;
  readonly markers: readonly (readonly [string, number])[];
  readonly times: readonly number[];
  readonly pending: readonly { readonly time: number; readonly length: number }[];
  readonly stateLength: number;
}

/**
 * The changelog record's value: a version byte, the bookkeeping as JSON behind its length, the
 * state bytes, then the pending chunks' bytes.
 *
 * @example
 * const value = encodeChangelogEntry({ time, state, assembly: assembler.snapshot() });
 */
export function encodeChangelogEntry(entry: ChangelogEntry): Buffer {
  const { assembly } = entry;
  const header: Header = {
    time: entry.time,
    position: assembly.position === undefined ? null : assembly.position.toString(),
    completed: assembly.completed ?? null,
    markers: [...assembly.markers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    times: assembly.times,
    pending: assembly.pending.map(({ time, bytes }) => ({ time, length: bytes.byteLength })),
    stateLength: entry.state.byteLength,
  };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(VERSION, 0);
  prefix.writeUInt32BE(json.length, 1);
  return Buffer.concat([prefix, json, entry.state, ...assembly.pending.map(({ bytes }) => bytes)]);
}

/**
 * Reads a changelog value back; anything else is refused with `SLUICE_INVALID_RECORD` naming
 * `where`.
 *
 * @example
 * const entry = decodeChangelogEntry(message.value, "changelog partition 3");
 */
export function decodeChangelogEntry(value: Buffer, where: string): ChangelogEntry {
  try {
    if (value.readUInt8(0) !== VERSION) throw new Error(`version ${value.readUInt8(0)}`);
    const jsonLength = value.readUInt32BE(1);
    let at = 5 + jsonLength;
    const header = JSON.parse(value.subarray(5, at).toString()) as Header;
    const take = (length: number): Uint8Array => {
      if (at + length > value.length) throw new Error("truncated");
      const bytes = new Uint8Array(value.buffer, value.byteOffset + at, length);
      at += length;
      return bytes;
    };
    const state = take(header.stateLength);
    const pending = header.pending.map(({ time, length }) => ({ time, bytes: take(length) }));
    return {
      time: header.time,
      state,
      assembly: {
        position: header.position === null ? undefined : BigInt(header.position),
        completed: header.completed ?? undefined,
        pending,
        markers: new Map(header.markers),
        times: header.times,
      },
    };
  } catch (error) {
    throw new SluiceError(
      "SLUICE_INVALID_RECORD",
      `The last record of ${where} is not a Sluice changelog entry (${error instanceof Error ? error.message : String(error)}). Only Sluice writes to its changelog topics; delete the job's keyed topics to start its state over.`,
      { cause: error },
    );
  }
}
