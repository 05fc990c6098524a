// socketTextStream decodes a byte batch of lines in one pass where it can: the same strings as
// decoding each line's record (lineText), for ASCII, UTF-8, a byte order mark and invalid bytes.
import fc from "fast-check";
import type { SourceRecord } from "sluice";
import { SourceRecordColumns } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import { lineText, lineTexts } from "../../src/input/file-input-dstream.js";

function piece(lines: readonly Uint8Array[], first: number): SourceRecordColumns {
  const valueOffsets = new Uint32Array(lines.length + 1);
  let total = 0;
  lines.forEach((line, row) => {
    total += line.length;
    valueOffsets[row + 1] = total;
  });
  const bytes = new Uint8Array(total);
  lines.forEach((line, row) => {
    bytes.set(line, valueOffsets[row]);
  });
  return new SourceRecordColumns({
    partition: "peer",
    bytes,
    valueOffsets,
    timestampMs: 0,
    offsets: { kind: "sequence", first },
  });
}

const line = fc.oneof(
  fc.string({ maxLength: 10 }).map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ maxLength: 10 }),
  fc.constant(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)),
);

describe("lineTexts", () => {
  it("gives what lineText gives for every record, partition by partition", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.array(line, { maxLength: 6 }), { maxLength: 3 }), { maxLength: 3 }),
        (partitions) => {
          let first = 0;
          const columns = partitions.map((pieces) => ({
            kind: "records" as const,
            pieces: pieces.map((lines) => {
              const made = piece(lines, first);
              first += lines.length;
              return made;
            }),
          }));
          const batch = new ColumnarBatch<SourceRecord>(1000, columns);
          const expected = columns.map(({ pieces }) =>
            pieces.flatMap((p) => p.records().map(lineText)),
          );
          expect(lineTexts(batch)).toEqual(expected);
        },
      ),
    );
  });

  it("decodes records that are not columns line by line", () => {
    const record = (text: string): SourceRecord => ({
      value: new TextEncoder().encode(text),
      headers: {},
      timestampMs: 0,
      partition: "p",
      offset: "0",
    });
    expect(lineTexts({ time: 1000, partitions: [[record("a"), record("é")], []] })).toEqual([
      ["a", "é"],
      [],
    ]);
  });
});
