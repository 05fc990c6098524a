import fc from "fast-check";
import { SourceRecordColumns } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { ReceivedLines } from "../../src/connectors/socket/received-lines.js";
import { sliceColumns } from "../../src/input/byte-batches.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function columnsOf(lines: readonly string[], first = 0): SourceRecordColumns {
  const received = new ReceivedLines("peer:1");
  for (const line of lines) received.append(encoder.encode(line), 7);
  const columns = received.take(Number.MAX_SAFE_INTEGER);
  expect(columns.offsets).toEqual({ kind: "sequence", first: 0 });
  return first === 0
    ? columns
    : new SourceRecordColumns({ ...columns, offsets: { kind: "sequence", first } });
}

const line = fc.string({ maxLength: 12, unit: "grapheme" });

describe("SourceRecordColumns", () => {
  it("gives each row as the record a source would have made", () => {
    const columns = columnsOf(["ab", "", "é"], 10);
    expect(columns.length).toBe(3);
    expect(columns.byteLength).toBe(4);
    expect(columns.largestValueBytes()).toBe(2);
    expect(columns.lastOffset).toBe("12");
    const records = columns.records();
    expect(records.map((record) => decoder.decode(record.value))).toEqual(["ab", "", "é"]);
    expect(records.map((record) => record.offset)).toEqual(["10", "11", "12"]);
    expect(records.every((record) => record.partition === "peer:1")).toBe(true);
    expect(records.every((record) => record.timestampMs === 7)).toBe(true);
    // Made once and kept.
    expect(columns.records()).toBe(records);
  });

  it("slices keep values, offsets and times of their rows, in a blob of their own", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.nat(), fc.nat(), (lines, a, b) => {
        const columns = columnsOf(lines, 5);
        const start = lines.length === 0 ? 0 : a % (lines.length + 1);
        const end = start + (lines.length === 0 ? 0 : b % (lines.length - start + 1));
        const slice = columns.slice(start, end);
        expect(slice.records().map((r) => decoder.decode(r.value))).toEqual(
          lines.slice(start, end),
        );
        expect(slice.records().map((r) => r.offset)).toEqual(
          lines.slice(start, end).map((_, i) => String(5 + start + i)),
        );
        expect(slice.bytes.buffer).not.toBe(columns.bytes.buffer);
      }),
    );
  });

  it("list offsets name each row's own offset", () => {
    const columns = new SourceRecordColumns({
      partition: "f.log",
      bytes: encoder.encode("abc"),
      valueOffsets: Uint32Array.of(0, 1, 3),
      timestampMs: Float64Array.of(1, 2),
      offsets: { kind: "list", offsets: ["2", "9"] },
    });
    expect(columns.records().map((r) => [r.offset, r.timestampMs])).toEqual([
      ["2", 1],
      ["9", 2],
    ]);
    expect(columns.slice(1, 2).lastOffset).toBe("9");
  });

  it("position offsets give each row its number as a string, and slice with their rows", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 ** 40 }), { maxLength: 30 }), fc.nat(), (ends, a) => {
        const positions = Float64Array.from(ends);
        const columns = new SourceRecordColumns({
          partition: "f.log",
          bytes: new Uint8Array(ends.length),
          valueOffsets: Uint32Array.from({ length: ends.length + 1 }, (_, i) => i),
          timestampMs: 3,
          offsets: { kind: "positions", positions },
        });
        expect(columns.records().map((r) => r.offset)).toEqual(ends.map(String));
        expect(columns.lastOffset).toBe(ends.length === 0 ? undefined : String(ends.at(-1)));
        const start = a % (ends.length + 1);
        const slice = columns.slice(start, ends.length);
        expect(slice.records().map((r) => r.offset)).toEqual(ends.slice(start).map(String));
        expect(slice.offsets.kind === "positions" && slice.offsets.positions.buffer).not.toBe(
          positions.buffer,
        );
      }),
    );
  });
});

describe("ReceivedLines", () => {
  it("hands lines over in order, numbered across takes, whatever the take sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(line, fc.integer({ min: 1, max: 7 })), { maxLength: 300 }),
        (steps) => {
          // A string appends a line (split into parts at its middle); a number takes that many.
          const received = new ReceivedLines("p");
          const appended: string[] = [];
          const taken: { text: string; offset: string }[] = [];
          for (const step of steps) {
            if (typeof step === "string") {
              const bytes = encoder.encode(step);
              const middle = bytes.length >> 1;
              received.append([bytes.subarray(0, middle), bytes.subarray(middle)], 1);
              appended.push(step);
            } else {
              for (const record of received.take(step).records()) {
                taken.push({ text: decoder.decode(record.value), offset: record.offset });
              }
            }
            expect(received.length).toBe(appended.length - taken.length);
          }
          for (const record of received.take(Number.MAX_SAFE_INTEGER).records()) {
            taken.push({ text: decoder.decode(record.value), offset: record.offset });
          }
          expect(taken.map((t) => t.text)).toEqual(appended);
          expect(taken.map((t) => t.offset)).toEqual(appended.map((_, i) => String(i)));
          expect(received.nextOffset).toBe(appended.length);
        },
      ),
    );
  });

  it("grows past its first buffer for long lines and many rows", () => {
    const received = new ReceivedLines("p");
    const long = "x".repeat(100_000);
    for (let i = 0; i < 3000; i++) received.append(encoder.encode(i === 5 ? long : `l${i}`), 1);
    const records = received.take(Number.MAX_SAFE_INTEGER).records();
    expect(records).toHaveLength(3000);
    expect(decoder.decode(records[5]?.value)).toBe(long);
    expect(decoder.decode(records[2999]?.value)).toBe("l2999");
  });
});

describe("sliceColumns", () => {
  it("cuts byte batches into near-equal contiguous partitions, as records are cut", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(line, { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (batches, partitions) => {
          let first = 0;
          const columns = batches.map((lines) => {
            const made = columnsOf(lines, first);
            first += lines.length;
            return made;
          });
          const rows = first;
          const sliced = sliceColumns(columns, rows, partitions);
          expect(sliced).toHaveLength(partitions);
          const texts = sliced.map((pieces) =>
            pieces.flatMap((piece) => piece.records().map((r) => decoder.decode(r.value))),
          );
          expect(texts.flat()).toEqual(batches.flat());
          texts.forEach((part, i) => {
            const start = Math.floor((i * rows) / partitions);
            const end = Math.floor(((i + 1) * rows) / partitions);
            expect(part.length).toBe(end - start);
          });
          const offsets = sliced.flatMap((pieces) =>
            pieces.flatMap((piece) => piece.records().map((r) => Number(r.offset))),
          );
          expect(offsets).toEqual(batches.flat().map((_, i) => i));
        },
      ),
    );
  });
});
