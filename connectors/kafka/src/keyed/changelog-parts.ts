import { randomBytes } from "node:crypto";
import { SluiceError } from "sluice/connector";
import { MAX_VALUE_BYTES } from "./keyed-topics.js";

/**
 * The most one commit of a keyed partition may take in all its parts: the restore holds them
 * in memory at once, and one transaction carries them.
 */
export const MAX_COMMIT_BYTES = 1024 * 1024 * 1024;

/** The first byte of a manifest: the parts before it make the entry. */
const MANIFEST = 2;
/** The first byte of a part. */
const PART = 3;
const TOKEN_BYTES = 16;
const PART_HEADER = 1 + TOKEN_BYTES + 4;
const MANIFEST_BYTES = 1 + TOKEN_BYTES + 4 + 8;
/** The bytes of the entry one part carries: a part is a record of its own, under the limit. */
export const PART_DATA_BYTES = MAX_VALUE_BYTES - PART_HEADER;

/** One record of a commit to the changelog (`value: null` is a tombstone). */
export interface ChangelogRecord {
  readonly key: string;
  readonly value: Buffer | null;
}

/** The records of one commit, in the order they are sent, and how many parts it has. */
export interface ChangelogCommit {
  readonly records: readonly ChangelogRecord[];
  readonly parts: number;
}

function partKey(partition: number, index: number): string {
  return `${partition}.part-${index}`;
}

/**
 * The records that commit `entry` (an encoded changelog entry) to keyed partition `partition`'s
 * changelog. An entry that fits in one record is that record, under the partition's key, as
 * ever. A larger one (a large state, or many chunks read ahead) is cut into parts, each a record
 * under a key of its own (`<partition>.part-<i>`, so compaction keeps the newest of each), then a
 * manifest under the partition's key naming the commit's token and its number of parts: the
 * parts come right before their manifest, in the same transaction. Parts an earlier commit left
 * beyond this one's (`previousParts`) get tombstones first, so compaction clears them.
 *
 * @example
 * const { records, parts } = changelogCommit(3, encodeChangelogEntry(entry), task.changelogParts);
 */
export function changelogCommit(
  partition: number,
  entry: Buffer,
  previousParts: number,
): ChangelogCommit {
  if (entry.byteLength > MAX_COMMIT_BYTES) {
    throw new SluiceError(
      "SLUICE_INVALID_CONFIG",
      `Keyed partition ${partition}'s commit takes ${entry.byteLength} bytes, more than the ${MAX_COMMIT_BYTES} one commit may take. Spread the state over more keyed partitions (cluster.keyedPartitions; the job's keyed topics are then made again, see docs/cluster.md), or keep less state per key. Nothing was committed.`,
    );
  }
  const parts =
    entry.byteLength <= MAX_VALUE_BYTES ? 0 : Math.ceil(entry.byteLength / PART_DATA_BYTES);
  const records: ChangelogRecord[] = [];
  for (let index = parts; index < previousParts; index++) {
    records.push({ key: partKey(partition, index), value: null });
  }
  if (parts === 0) {
    records.push({ key: String(partition), value: entry });
    return { records, parts };
  }
  const token = randomBytes(TOKEN_BYTES);
  for (let index = 0; index < parts; index++) {
    const data = entry.subarray(index * PART_DATA_BYTES, (index + 1) * PART_DATA_BYTES);
    const header = Buffer.alloc(PART_HEADER);
    header.writeUInt8(PART, 0);
    token.copy(header, 1);
    header.writeUInt32BE(index, 1 + TOKEN_BYTES);
    records.push({ key: partKey(partition, index), value: Buffer.concat([header, data]) });
  }
  const manifest = Buffer.alloc(MANIFEST_BYTES);
  manifest.writeUInt8(MANIFEST, 0);
  token.copy(manifest, 1);
  manifest.writeUInt32BE(parts, 1 + TOKEN_BYTES);
  manifest.writeDoubleBE(entry.byteLength, 1 + TOKEN_BYTES + 4);
  records.push({ key: String(partition), value: manifest });
  return { records, parts };
}

/**
 * How many parts a changelog record's commit has: 0 for a whole entry, else the manifest's count
 * (whose parts are the records right before it).
 *
 * @example
 * const parts = partsOf(last.value); // read that many records before it
 */
export function partsOf(value: Buffer): number {
  return value.byteLength === MANIFEST_BYTES && value.readUInt8(0) === MANIFEST
    ? value.readUInt32BE(1 + TOKEN_BYTES)
    : 0;
}

/**
 * The entry a manifest stands for, from the records right before it (`parts`, in offset order);
 * refuses parts that are missing, of another commit or cut short, naming `where`.
 *
 * @example
 * const entry = joinParts(manifest, await reader.range(3, offset - BigInt(parts), offset), where);
 */
export function joinParts(
  manifest: Buffer,
  parts: readonly (Buffer | null)[],
  where: string,
): Buffer {
  const count = partsOf(manifest);
  const token = manifest.subarray(1, 1 + TOKEN_BYTES);
  const length = manifest.readDoubleBE(1 + TOKEN_BYTES + 4);
  const problem = (what: string): SluiceError =>
    new SluiceError(
      "SLUICE_INVALID_RECORD",
      `The last commit in ${where} is in ${count} parts, but ${what}. Only Sluice writes to its changelog topics; delete the job's keyed topics to start its state over.`,
    );
  if (parts.length !== count) throw problem(`${parts.length} records come before its manifest`);
  const data: Buffer[] = [];
  parts.forEach((part, index) => {
    if (
      part === null ||
      part.byteLength < PART_HEADER ||
      part.readUInt8(0) !== PART ||
      !part.subarray(1, 1 + TOKEN_BYTES).equals(token) ||
      part.readUInt32BE(1 + TOKEN_BYTES) !== index
    ) {
      throw problem(`the record before it in place ${index} is not its part ${index}`);
    }
    data.push(part.subarray(PART_HEADER));
  });
  const entry = Buffer.concat(data);
  if (entry.byteLength !== length) {
    throw problem(`its parts hold ${entry.byteLength} bytes, not ${length}`);
  }
  return entry;
}
