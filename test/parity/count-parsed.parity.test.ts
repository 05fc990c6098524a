import fc from "fast-check";
import {
  JsKernels,
  type Kernels,
  type KeyColumn,
  keyColumnFromStrings,
  NativeKernels,
  type TextParser,
  type Utf8Groups,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "../../core/test/kernels/native-binding.js";
import { expectSameColumn, expectSameF64 } from "./compare.js";

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

/** Text rich in every parser's separators, quotes, escapes and multi-byte characters. */
const text = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("a", "b", "abcdefgh", "abcdefghij", "é", "🙂") },
    {
      weight: 3,
      arbitrary: fc.constantFrom(" ", "\t", "\n", "\r", "\u000b", "\u00a0", ",", ";", '"', "\\"),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{"s": "v"}', '{"s": "w\\u00e9", "t": 1}', '{"t": "s", "s": 2}'),
    },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 1 }) },
  ),
  maxLength: 40,
});

const values = fc.array(text, { maxLength: 30 }).map(keyColumnFromStrings);

const parser: fc.Arbitrary<TextParser> = fc.oneof(
  fc.constant({ kind: "lines" as const }),
  fc.constant({ kind: "words" as const }),
  fc.record({
    kind: fc.constant("csvColumn" as const),
    index: fc.integer({ min: 0, max: 3 }),
    delimiter: fc.constantFrom(",", ";", "\t"),
  }),
  fc.record({ kind: fc.constant("jsonStringField" as const), field: fc.constantFrom("s", "t") }),
);

/** The parser's column with its invalid rows dropped, as the streams keep it. */
function parsedRows(kernels: Kernels, column: KeyColumn, p: TextParser): KeyColumn {
  switch (p.kind) {
    case "lines":
      return kernels.splitLines(column);
    case "words":
      return kernels.splitWords(column);
    case "csvColumn":
      return validOnly(kernels.csvColumn(column, p.index, p.delimiter));
    case "jsonStringField":
      return validOnly(kernels.jsonStringField(column, p.field));
  }
}

function validOnly(parsed: KeyColumn & { valid: Uint8Array }): KeyColumn {
  const parts: Uint8Array[] = [];
  for (let row = 0; row < parsed.valid.length; row++) {
    if (parsed.valid[row] === 1) {
      parts.push(parsed.keys.subarray(parsed.offsets[row], parsed.offsets[row + 1]));
    }
  }
  const offsets = new Uint32Array(parts.length + 1);
  const keys = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.forEach((part, i) => {
    keys.set(part, offsets[i] as number);
    offsets[i + 1] = (offsets[i] as number) + part.length;
  });
  return { keys, offsets };
}

/** The reference placement: groups hash-partitioned, then a stable shuffle. */
function placed(kernels: Kernels, groups: Utf8Groups, n: number): Utf8Groups[] {
  const ids = kernels.hashPartitionUtf8(groups.keys, n);
  const { permutation, bounds } = kernels.shuffle(ids, n);
  return Array.from({ length: n }, (_, p) => {
    const rows = permutation.subarray(bounds[p], bounds[p + 1]);
    const parts = Array.from(rows, (row) =>
      groups.keys.keys.subarray(groups.keys.offsets[row], groups.keys.offsets[row + 1]),
    );
    const offsets = new Uint32Array(parts.length + 1);
    const blob = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    parts.forEach((part, i) => {
      blob.set(part, offsets[i] as number);
      offsets[i + 1] = (offsets[i] as number) + part.length;
    });
    return {
      keys: { keys: blob, offsets },
      values: Float64Array.from(rows, (row) => groups.values[row] as number),
    };
  });
}

function expectSameGroups(actual: readonly Utf8Groups[], expected: readonly Utf8Groups[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((part, p) => {
    const other = expected[p] as Utf8Groups;
    expectSameColumn(part.keys, other.keys);
    expectSameF64(part.values, other.values);
  });
}

describe("countParsed: fused parse + count (native vs TypeScript vs parse then reduce)", () => {
  it("equals the parser's valid rows reduced with count, placed by hash", () => {
    fc.assert(
      fc.property(values, parser, fc.integer({ min: 1, max: 4 }), (column, p, n) => {
        const rows = parsedRows(js, column, p);
        const reference = js.reduceByKeyUtf8(rows, new Float64Array(0), "count");
        expectSameGroups(js.countParsed(column, p), [reference]);
        expectSameGroups(native.countParsed(column, p), [reference]);
        const expected = placed(js, reference, n);
        expectSameGroups(js.countParsed(column, p, n), expected);
        expectSameGroups(native.countParsed(column, p, n), expected);
      }),
      { numRuns: 400 },
    );
  });

  it("gives the same results from the async variants", async () => {
    await fc.assert(
      fc.asyncProperty(values, parser, fc.integer({ min: 1, max: 3 }), async (column, p, n) => {
        const expected = js.countParsed(column, p, n);
        expectSameGroups(await native.countParsedAsync(column, p, n), expected);
        expectSameGroups(await js.countParsedAsync(column, p, n), expected);
        expectSameColumn(await native.splitLinesAsync(column), js.splitLines(column));
        expectSameColumn(await native.splitWordsAsync(column), js.splitWords(column));
        const csv = await native.csvColumnAsync(column, 1, ";");
        const csvJs = js.csvColumn(column, 1, ";");
        expectSameColumn(csv, csvJs);
        expect(Array.from(csv.valid)).toEqual(Array.from(csvJs.valid));
        const strings = await native.jsonStringFieldAsync(column, "s");
        expectSameColumn(strings, js.jsonStringField(column, "s"));
        const numbers = await native.jsonNumberFieldAsync(column, "t");
        expectSameF64(numbers.values, js.jsonNumberField(column, "t").values);
      }),
      { numRuns: 100 },
    );
  });

  it("counts pieces one after the other into one counter as one column, sync or async", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { maxLength: 30 }),
        fc.array(fc.nat({ max: 30 }), { maxLength: 4 }),
        parser,
        fc.integer({ min: 1, max: 4 }),
        async (rows, cuts, p, n) => {
          const bounds = [
            0,
            ...cuts.map((cut) => Math.min(cut, rows.length)).sort((a, b) => a - b),
          ];
          const pieces = bounds.map((from, i) =>
            keyColumnFromStrings(rows.slice(from, bounds[i + 1] ?? rows.length)),
          );
          const expected = js.countParsed(keyColumnFromStrings(rows), p, n);
          for (const kernels of [js, native]) {
            const counter = kernels.createParsedCounter(p);
            const other = kernels.createParsedCounter(p);
            for (const [i, piece] of pieces.entries()) {
              counter.count(piece);
              await (i % 2 === 0 ? other.countAsync(piece) : other.count(piece));
            }
            expectSameGroups(counter.finish(n), expected);
            expectSameGroups(other.finish(n), expected);
            expect(() => counter.count(pieces[0] as KeyColumn)).toThrow(
              expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
            );
            expect(() => counter.finish(n)).toThrow(
              expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects a counter's bad arguments alike", () => {
    for (const kernels of [js, native]) {
      expect(() =>
        kernels.createParsedCounter({ kind: "csvColumn", index: 0, delimiter: '"' }),
      ).toThrow(expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }));
      const counter = kernels.createParsedCounter({ kind: "words" });
      expect(() =>
        counter.count({ keys: new Uint8Array(1), offsets: Uint32Array.of(0, 2) }),
      ).toThrow(expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_OFFSETS" }));
      expect(() => counter.finish(0)).toThrow(
        expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
      );
      expectSameGroups(
        counter.finish(2),
        js.countParsed(keyColumnFromStrings([]), { kind: "words" }, 2),
      );
    }
  });

  it("counts a large Zipf-like batch of words identically", () => {
    const words = Array.from({ length: 20_000 }, (_, i) => `w${(i * 7919) % (1 + (i % 5000))}`);
    const lines: string[] = [];
    for (let i = 0; i < words.length; i += 10) lines.push(words.slice(i, i + 10).join(" "));
    const column = keyColumnFromStrings(lines);
    const expected = js.reduceByKeyUtf8(js.splitWords(column), new Float64Array(0), "count");
    expectSameGroups(native.countParsed(column, { kind: "words" }), [expected]);
    expectSameGroups(js.countParsed(column, { kind: "words" }), [expected]);
    expect(expected.values.reduce((a, b) => a + b, 0)).toBe(words.length);
  });
});
