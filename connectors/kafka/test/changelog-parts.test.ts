// A keyed partition's commit larger than one record of the keyed topics goes to the changelog in
// parts, each a record of its own under the limit, before a manifest under the partition's key;
// the parts an earlier commit left beyond the new one get tombstones.
import { describe, expect, it } from "vitest";
import {
  changelogCommit,
  joinParts,
  PART_DATA_BYTES,
  partsOf,
} from "../src/keyed/changelog-parts.js";
import { MAX_VALUE_BYTES } from "../src/keyed/keyed-topics.js";

/** An entry of `bytes` bytes whose every byte depends on its place. */
function entryOf(bytes: number): Buffer {
  const entry = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4093) entry[i] = (i / 4093) % 251;
  entry[bytes - 1] = 7;
  return entry;
}

describe("changelogCommit", () => {
  it("writes an entry that fits as one record under the partition's key, as ever", () => {
    const entry = Buffer.from([1, 2, 3]);
    const { records, parts } = changelogCommit(3, entry, 0);
    expect(parts).toBe(0);
    expect(records).toEqual([{ key: "3", value: entry }]);
    expect(partsOf(entry)).toBe(0);
  });

  it("cuts a larger entry into parts under the limit, then a manifest, and joins them back", () => {
    const entry = entryOf(2 * MAX_VALUE_BYTES + 1000);
    const { records, parts } = changelogCommit(5, entry, 0);
    expect(parts).toBe(3);
    expect(records.map(({ key }) => key)).toEqual(["5.part-0", "5.part-1", "5.part-2", "5"]);
    for (const { value } of records) expect(value?.byteLength).toBeLessThanOrEqual(MAX_VALUE_BYTES);
    const manifest = records.at(-1)?.value as Buffer;
    expect(partsOf(manifest)).toBe(3);
    const joined = joinParts(
      manifest,
      records.slice(0, 3).map(({ value }) => value),
      "changelog partition 5",
    );
    expect(joined.equals(entry)).toBe(true);
  });

  it("keeps an entry of exactly the limit whole, and cuts one a byte over into a full part and the rest", () => {
    expect(changelogCommit(0, entryOf(MAX_VALUE_BYTES), 0).parts).toBe(0);
    const entry = entryOf(MAX_VALUE_BYTES + 1);
    const { records, parts } = changelogCommit(0, entry, 0);
    expect(parts).toBe(2);
    const header = 1 + 16 + 4;
    expect(records[0]?.value?.byteLength).toBe(header + PART_DATA_BYTES);
    expect(records[1]?.value?.byteLength).toBe(header + MAX_VALUE_BYTES + 1 - PART_DATA_BYTES);
    const joined = joinParts(
      records[2]?.value as Buffer,
      [records[0]?.value ?? null, records[1]?.value ?? null],
      "p",
    );
    expect(joined.equals(entry)).toBe(true);
  });

  it("sends tombstones first for the parts an earlier, larger commit left beyond this one's", () => {
    const small = changelogCommit(2, Buffer.from([1]), 3);
    expect(small.records).toEqual([
      { key: "2.part-0", value: null },
      { key: "2.part-1", value: null },
      { key: "2.part-2", value: null },
      { key: "2", value: Buffer.from([1]) },
    ]);
    const fewer = changelogCommit(2, entryOf(MAX_VALUE_BYTES + 10), 4);
    expect(fewer.records.map(({ key, value }) => [key, value === null])).toEqual([
      ["2.part-2", true],
      ["2.part-3", true],
      ["2.part-0", false],
      ["2.part-1", false],
      ["2", false],
    ]);
  });

  it("refuses parts that are missing, of another commit, out of place or cut short, naming the partition", () => {
    const entry = entryOf(MAX_VALUE_BYTES + 10);
    const first = changelogCommit(1, entry, 0);
    const second = changelogCommit(1, entry, 0);
    const manifest = first.records.at(-1)?.value as Buffer;
    const [part0, part1] = first.records.map(({ value }) => value);
    const where = '"wc.sluice-changelog" partition 1';
    const attempts: [string, (Buffer | null)[]][] = [
      ["missing", [part1 ?? null]],
      ["another commit's", [second.records[0]?.value ?? null, part1 ?? null]],
      ["swapped", [part1 ?? null, part0 ?? null]],
      ["a tombstone", [part0 ?? null, null]],
      ["cut short", [part0 ?? null, (part1 as Buffer).subarray(0, 30)]],
    ];
    for (const [what, parts] of attempts) {
      expect(() => joinParts(manifest, parts, where), what).toThrow(
        expect.objectContaining({
          code: "SLUICE_INVALID_RECORD",
          message: expect.stringContaining(`The last commit in ${where} is in 2 parts`),
        }),
      );
    }
  });
});
