import { deserialize, serialize } from "node:v8";
import { SluiceError } from "../errors/sluice-error.js";
import { crc32 } from "../recovery/checksum.js";
import { describeUnclonable } from "../util/unclonable-value.js";

/** The object-file format version this copy of Sluice writes (and the newest it reads). */
export const OBJECT_FILE_VERSION = 1;

// The same signature as checkpoint files (`SLUICE` and a kind byte), with its own kind: "O".
const MAGIC = new TextEncoder().encode("SLUICE");
const KIND = 0x4f;
const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;
const MAX_U32 = 0xffffffff;

/** Where a record being written comes from, for the error naming it. */
export interface RecordPlace {
  readonly operation: string;
  readonly time: number;
  readonly partition: number;
}

/**
 * One partition as an object file: a 16-byte header (`SLUICE`, the kind byte `O`, the format
 * version, the record count and the CRC-32 of those 12 bytes), then per record its length, the
 * CRC-32 of its bytes and the bytes (`v8.serialize`); integers are 32-bit little-endian. A record
 * `v8.serialize` would not give back as it was fails with `SLUICE_INVALID_RECORD` naming `place`.
 *
 * @example
 * const bytes = encodeObjectPart([{ id: 1 }, new Map([["a", 1]])], { operation: "saveAsObjectFiles", time: 1000, partition: 0 });
 */
export function encodeObjectPart(records: ReadonlyArray<unknown>, place: RecordPlace): Uint8Array {
  const payloads = records.map((record, index) => serializeRecord(record, index, place));
  let size = HEADER_BYTES;
  for (const payload of payloads) size += RECORD_HEADER_BYTES + payload.byteLength;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[6] = KIND;
  bytes[7] = OBJECT_FILE_VERSION;
  view.setUint32(8, payloads.length, true);
  view.setUint32(12, crc32(bytes.subarray(0, 12)), true);
  let offset = HEADER_BYTES;
  for (const payload of payloads) {
    view.setUint32(offset, payload.byteLength, true);
    view.setUint32(offset + 4, crc32(payload), true);
    bytes.set(payload, offset + RECORD_HEADER_BYTES);
    offset += RECORD_HEADER_BYTES + payload.byteLength;
  }
  return bytes;
}

/**
 * The records of an object file written by `encodeObjectPart`, in order. A file that is
 * truncated, appended to or damaged (header, a length, a record's checksum) fails with
 * `SLUICE_INVALID_RECORD` naming `file` and what is wrong; a newer format version too.
 *
 * @example
 * const records = decodeObjectPart(await readFile(file), file);
 */
export function decodeObjectPart(bytes: Uint8Array, file: string): unknown[] {
  const damaged = (problem: string): SluiceError =>
    new SluiceError("SLUICE_INVALID_RECORD", `${file} is not a valid object file: ${problem}`);
  if (bytes.byteLength < HEADER_BYTES) {
    throw damaged(
      `it has ${bytes.byteLength} bytes, fewer than its ${HEADER_BYTES}-byte header (truncated)`,
    );
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw damaged("it does not start with the SLUICE signature");
  }
  if (bytes[6] !== KIND)
    throw damaged(`its kind byte is ${bytes[6]}, not an object file's ${KIND}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(12, true) !== crc32(bytes.subarray(0, 12))) {
    throw damaged("its header's checksum does not match: the file was damaged");
  }
  const version = bytes[7] as number;
  if (version > OBJECT_FILE_VERSION) {
    throw damaged(
      `it was written in format version ${version}; this Sluice reads versions up to ${OBJECT_FILE_VERSION}: upgrade Sluice to read it`,
    );
  }
  const count = view.getUint32(8, true);
  const records: unknown[] = [];
  let offset = HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    if (offset + RECORD_HEADER_BYTES > bytes.byteLength) {
      throw damaged(`it announces ${count} records but ends after ${index} (truncated)`);
    }
    const length = view.getUint32(offset, true);
    const expected = view.getUint32(offset + 4, true);
    const start = offset + RECORD_HEADER_BYTES;
    if (start + length > bytes.byteLength) {
      throw damaged(
        `record ${index} announces ${length} bytes but ${bytes.byteLength - start} follow (truncated)`,
      );
    }
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== expected) {
      throw damaged(`record ${index}'s checksum does not match: the file was damaged`);
    }
    try {
      // A copy per record: a typed array in it may come back as a view of the bytes it was read
      // from, which must then hold this record only, not keep the whole part file alive.
      records.push(deserialize(new Uint8Array(payload)));
    } catch (error) {
      throw damaged(`record ${index} cannot be read (${messageOf(error)})`);
    }
    offset = start + length;
  }
  if (offset !== bytes.byteLength) {
    throw damaged(
      `${bytes.byteLength - offset} bytes follow its ${count} records (appended to or damaged)`,
    );
  }
  return records;
}

function serializeRecord(record: unknown, index: number, place: RecordPlace): Uint8Array {
  const refuse = (problem: string, cause?: unknown): SluiceError =>
    new SluiceError(
      "SLUICE_INVALID_RECORD",
      `${place.operation}: record ${index} of partition ${place.partition} in the batch at ${place.time} ms cannot be saved: it holds ${problem}. Records must be plain data that v8.serialize gives back as they were (objects, arrays, strings, numbers, bigints, Maps, Sets, Dates, typed arrays): map the stream to such values before saving (drop functions and symbols, turn class instances into plain objects)`,
      cause === undefined ? undefined : { cause },
    );
  const unclonable = describeUnclonable(record);
  if (unclonable !== undefined) throw refuse(unclonable);
  let payload: Uint8Array;
  try {
    payload = serialize(record);
  } catch (error) {
    throw refuse(`a value v8.serialize refuses (${messageOf(error)})`, error);
  }
  if (payload.byteLength > MAX_U32)
    throw refuse(`${payload.byteLength} bytes, more than the 4 GiB a record may take`);
  return payload;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
