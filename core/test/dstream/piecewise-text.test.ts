import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SourceRecordColumns } from "../../src/connector/record-columns.js";
import { ColumnarBatch, materialise } from "../../src/dstream/columnar-batch.js";
import { joinKeyColumns, PiecewiseText } from "../../src/dstream/piecewise-text.js";
import { revived, shippable } from "../../src/execution/shipped-columns.js";
import { linesOf } from "../../src/input/line-text-dstream.js";
import { decodeKeyColumn, keyColumnFromStrings } from "../../src/kernels/key-column.js";

const lineArb = fc.string({
  unit: fc.oneof(fc.constantFrom("a", "b", " ", "é"), fc.string()),
  maxLength: 5,
});
const piecesArb = fc.array(fc.array(lineArb, { maxLength: 6 }), { maxLength: 5 });

describe("PiecewiseText", () => {
  it("joins its pieces into the column of all their lines, in order, only when read", () => {
    fc.assert(
      fc.property(piecesArb, (pieces) => {
        const text = new PiecewiseText(pieces.map((lines) => keyColumnFromStrings(lines)));
        expect(text.isJoined).toBe(false);
        expect(decodeKeyColumn(text.keys)).toEqual(pieces.flat());
        expect(text.isJoined).toBe(true);
        expect(materialise(text)).toEqual(pieces.flat());
      }),
    );
  });

  it("joins columns whose rows start past the blob's start", () => {
    const column = { keys: new TextEncoder().encode("xxab"), offsets: Uint32Array.of(2, 3, 4) };
    expect(decodeKeyColumn(joinKeyColumns([column, keyColumnFromStrings(["c"])]))).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  it("crosses to an executor as its pieces until joined, and as one column after", () => {
    const text = new PiecewiseText([keyColumnFromStrings(["a", "b"]), keyColumnFromStrings(["c"])]);
    const shipped = shippable(text);
    expect(shipped.kind).toBe("text-pieces");
    expect(materialise(revived(shipped))).toEqual(["a", "b", "c"]);
    expect(decodeKeyColumn(text.keys)).toEqual(["a", "b", "c"]);
    expect(shippable(text).kind).toBe("text");
  });
});

describe("a line source's batch (linesOf)", () => {
  const encoder = new TextEncoder();
  const piece = (lines: string[], lead = 0) => {
    const bytes = encoder.encode("#".repeat(lead) + lines.join(""));
    const valueOffsets = new Uint32Array(lines.length + 1);
    let at = lead;
    valueOffsets[0] = lead;
    lines.forEach((line, row) => {
      at += encoder.encode(line).length;
      valueOffsets[row + 1] = at;
    });
    return new SourceRecordColumns({
      partition: "host:1",
      bytes,
      valueOffsets,
      timestampMs: 0,
      offsets: { kind: "sequence", first: 0 },
    });
  };
  const batchOf = (partitions: SourceRecordColumns[][]) =>
    new ColumnarBatch(
      1000,
      partitions.map((pieces) => ({ kind: "records" as const, pieces })),
    );

  it("keeps a partition's pieces apart, and gives their lines in order", () => {
    const lines = linesOf(
      batchOf([[piece(["a", "b"]), piece(["é"])], [piece(["c"])], []]) as never,
      {
        by: "source",
      },
    );
    const columns = (lines as ColumnarBatch<string>).columns;
    expect(columns[0]).toBeInstanceOf(PiecewiseText);
    expect(columns[1]).not.toBeInstanceOf(PiecewiseText);
    expect(lines.partitions).toEqual([["a", "b", "é"], ["c"], []]);
  });

  it("copies pieces whose lines do not start their blob into one column at once", () => {
    const lines = linesOf(batchOf([[piece(["a"], 2), piece(["b"])]]) as never, { by: "source" });
    expect((lines as ColumnarBatch<string>).columns[0]).not.toBeInstanceOf(PiecewiseText);
    expect(lines.partitions).toEqual([["a", "b"]]);
  });
});
