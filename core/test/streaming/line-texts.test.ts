// socketTextStream and textFileStream keep a byte batch of lines as a columnar batch of text,
// decoded where a function first reads it (here, on the executors after the bytes crossed): the
// same strings as decoding each line's record (lineText), for ASCII, UTF-8, a byte order mark and
// invalid bytes.
import fc from "fast-check";
import type { SourceRecord } from "sluice";
import { SourceRecordColumns } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { ColumnarBatch, materialise } from "../../src/dstream/columnar-batch.js";
import { revived, shippable } from "../../src/execution/shipped-columns.js";
import { lineText } from "../../src/input/line-text.js";
import { linesOf } from "../../src/input/line-text-dstream.js";

function piece(lines: readonly Uint8Array[], first: number, file = "peer"): SourceRecordColumns {
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
    partition: file,
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

describe("linesOf", () => {
  it("gives what lineText gives for every record, partition by partition, without decoding", () => {
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
          const lines = linesOf(batch, { by: "source" });
          expect(lines).toBeInstanceOf(ColumnarBatch);
          const text = lines as ColumnarBatch<string>;
          expect(text.columns.every((partition) => partition.kind === "text")).toBe(true);
          expect(text.isMaterialised).toBe(false);
          // As an executor gets them: shipped, cloned by the message, decoded on arrival.
          const shipped = text.columns.map((partition) =>
            materialise(revived(structuredClone(shippable(partition)))),
          );
          expect(shipped).toEqual(expected);
          expect(text.partitions).toEqual(expected);
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
    const batch = { time: 1000, partitions: [[record("a"), record("é")], []] };
    expect(linesOf(batch, { by: "source" }).partitions).toEqual([["a", "é"], []]);
  });

  it("groups lines by file in name order, keeping the files accepted, columns or records", () => {
    const encode = (texts: readonly string[]) =>
      texts.map((text) => new TextEncoder().encode(text));
    const pieces = [
      piece(encode(["b1", "b2"]), 0, "b.txt"),
      piece(encode(["a1"]), 0, "a.txt"),
      piece(encode(["skip"]), 0, "c.skip"),
      piece(encode(["b3"]), 2, "b.txt"),
    ];
    const columns = new ColumnarBatch<SourceRecord>(1000, [
      { kind: "records", pieces: pieces.slice(0, 2) },
      { kind: "records", pieces: pieces.slice(2) },
    ]);
    const records = { time: 1000, partitions: columns.partitions };
    const accept = (name: string) => name.endsWith(".txt");
    const expected = [["a1"], ["b1", "b2", "b3"]];
    expect(linesOf(columns, { by: "file", accept }).partitions).toEqual(expected);
    expect(linesOf(records, { by: "file", accept }).partitions).toEqual(expected);
  });
});
