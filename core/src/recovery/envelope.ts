import { deserialize, serialize } from "node:v8";
import { SluiceError } from "../errors/sluice-error.js";
import { crc32 } from "./checksum.js";

/** What a file written through `encodeEnvelope` holds. */
export type EnvelopeKind = "checkpoint" | "batch";

/** The format version this copy of Sluice writes (and the newest it reads). */
export const ENVELOPE_VERSION = 1;

const MAGIC = new TextEncoder().encode("SLUICE");
const KIND_BYTE: Record<EnvelopeKind, number> = { checkpoint: 0x43, batch: 0x42 }; // "C", "B"
const HEADER_BYTES = 16;

/**
 * Wraps a value for a file: a 16-byte header (`SLUICE`, a kind byte, the format version, the
 * payload's length and its CRC-32) and the payload serialized with `v8.serialize` (structured
 * clone: plain objects, arrays, Maps, Sets, typed arrays, Dates, bigints; no functions, symbols or
 * class prototypes).
 *
 * @example
 * const bytes = encodeEnvelope("checkpoint", { time: 3000 });
 */
export function encodeEnvelope(kind: EnvelopeKind, value: unknown): Uint8Array {
  const payload = serialize(value);
  if (payload.byteLength > 0xffffffff) {
    throw new SluiceError(
      "SLUICE_CHECKPOINT_WRITE_FAILED",
      `a ${kind} file would hold ${payload.byteLength} bytes, more than the 4 GiB the format allows; keep less state (shorter windows, fewer keys)`,
    );
  }
  const bytes = new Uint8Array(HEADER_BYTES + payload.byteLength);
  bytes.set(MAGIC, 0);
  bytes[6] = KIND_BYTE[kind];
  bytes[7] = ENVELOPE_VERSION;
  const view = new DataView(bytes.buffer);
  view.setUint32(8, payload.byteLength, true);
  view.setUint32(12, crc32(payload), true);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

/**
 * Reads a value written by `encodeEnvelope`, checking the header, the length (a truncated file)
 * and the checksum (a corrupt one): `SLUICE_CHECKPOINT_CORRUPT` names `file` and what is wrong;
 * `SLUICE_CHECKPOINT_VERSION` when a newer Sluice wrote it.
 *
 * @example
 * const checkpoint = decodeEnvelope("checkpoint", bytes, "/ckpt/checkpoint-0000000000003000.ckpt");
 */
export function decodeEnvelope(kind: EnvelopeKind, bytes: Uint8Array, file: string): unknown {
  const corrupt = (problem: string): SluiceError =>
    new SluiceError("SLUICE_CHECKPOINT_CORRUPT", `${file} is not a valid ${kind} file: ${problem}`);
  if (bytes.byteLength < HEADER_BYTES) {
    throw corrupt(`it has ${bytes.byteLength} bytes, fewer than its ${HEADER_BYTES}-byte header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw corrupt("it does not start with the SLUICE signature");
  }
  if (bytes[6] !== KIND_BYTE[kind]) throw corrupt(`its kind byte is ${bytes[6]}, not a ${kind}`);
  const version = bytes[7] as number;
  if (version > ENVELOPE_VERSION) {
    throw new SluiceError(
      "SLUICE_CHECKPOINT_VERSION",
      `${file} was written in format version ${version}; this Sluice reads versions up to ${ENVELOPE_VERSION}: upgrade Sluice or start from a new checkpoint folder`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const expectedCrc = view.getUint32(12, true);
  if (bytes.byteLength - HEADER_BYTES !== length) {
    throw corrupt(
      `its header announces ${length} bytes of content but ${bytes.byteLength - HEADER_BYTES} follow (truncated or appended to)`,
    );
  }
  const payload = bytes.subarray(HEADER_BYTES);
  const actualCrc = crc32(payload);
  if (actualCrc !== expectedCrc) {
    throw corrupt(
      `checksum mismatch (stored ${hex(expectedCrc)}, computed ${hex(actualCrc)}): the file was damaged`,
    );
  }
  try {
    return deserialize(payload);
  } catch (error) {
    throw corrupt(
      `its content cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
