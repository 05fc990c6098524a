import fc from "fast-check";
import { decodeKeyColumn, JsKernels, keyColumnFromStrings, NativeKernels } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "../../core/test/kernels/native-binding.js";
import { expectSameColumn, expectSameF64 } from "./compare.js";

const native = new NativeKernels(requireNativeBinding(), { jsBelowRows: 0 });
const js = new JsKernels();

/** Text rich in the bytes the parsers care about. */
const parserText = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("a", "b", "é", "🙂", "1", "-", ".", "e") },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        " ",
        "\t",
        "\n",
        "\r",
        "\u000b",
        "\u00a0",
        ",",
        ";",
        '"',
        "\\",
        "{",
        "}",
        "[",
        "]",
        ":",
        "u",
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 1 }) },
  ),
  maxLength: 40,
});

/** A JSON object value: realistic records, sometimes mangled. */
const jsonText = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom("n", "s", "x", "né", 'a"b'),
      fc.oneof(
        fc.double(),
        fc.string({ unit: "grapheme", maxLength: 8 }),
        fc.integer(),
        fc.constant(null),
        fc.array(fc.integer(), { maxLength: 3 }),
      ),
      { maxKeys: 4 },
    )
    .map((record) => JSON.stringify(record)),
  parserText,
  fc
    .tuple(fc.constantFrom('{"n":', '{"s": "', '{"n": 1, "s": "\\u'), parserText)
    .map(([head, tail]) => head + tail),
);

/** The whitespace `splitWords` splits on: space, \t, \n, \v, \f, \r. */
const ASCII_WHITESPACE = /[ \t\n\r\v\f]+/;

const batchOf = (text: fc.Arbitrary<string>) =>
  fc.array(text, { maxLength: 30 }).map(keyColumnFromStrings);

describe("parser parity (native vs TypeScript)", () => {
  it("splits lines and words identically", () => {
    fc.assert(
      fc.property(batchOf(parserText), (values) => {
        expectSameColumn(native.splitLines(values), js.splitLines(values));
        expectSameColumn(native.splitWords(values), js.splitWords(values));
      }),
      { numRuns: 300 },
    );
  });

  it("splits words like a split on ASCII whitespace", () => {
    fc.assert(
      fc.property(fc.array(parserText, { maxLength: 10 }), (texts) => {
        const expected = texts.flatMap((text) =>
          text.split(ASCII_WHITESPACE).filter((word) => word !== ""),
        );
        expect(decodeKeyColumn(js.splitWords(keyColumnFromStrings(texts)))).toEqual(expected);
      }),
    );
  });

  it("reads CSV columns identically", () => {
    fc.assert(
      fc.property(
        batchOf(parserText),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(",", ";", "\t", "|"),
        (values, index, delimiter) => {
          const a = native.csvColumn(values, index, delimiter);
          const b = js.csvColumn(values, index, delimiter);
          expectSameColumn(a, b);
          expect(Array.from(a.valid)).toEqual(Array.from(b.valid));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads back fields a CSV writer quoted", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(parserText, { minLength: 1, maxLength: 5 }), {
          minLength: 1,
          maxLength: 10,
        }),
        (rows) => {
          const quote = (field: string): string => `"${field.replaceAll('"', '""')}"`;
          const records = keyColumnFromStrings(rows.map((fields) => fields.map(quote).join(",")));
          for (let index = 0; index < 5; index++) {
            const column = js.csvColumn(records, index);
            expect(decodeKeyColumn(column)).toEqual(rows.map((fields) => fields[index] ?? ""));
            expect(Array.from(column.valid)).toEqual(
              rows.map((fields) => (index < fields.length ? 1 : 0)),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("reads JSON fields identically", () => {
    fc.assert(
      fc.property(batchOf(jsonText), fc.constantFrom("n", "s", "né", 'a"b'), (values, field) => {
        const a = native.jsonNumberField(values, field);
        const b = js.jsonNumberField(values, field);
        expectSameF64(a.values, b.values);
        expect(Array.from(a.valid)).toEqual(Array.from(b.valid));
        const c = native.jsonStringField(values, field);
        const d = js.jsonStringField(values, field);
        expectSameColumn(c, d);
        expect(Array.from(c.valid)).toEqual(Array.from(d.valid));
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with JSON.parse on well-formed records", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.dictionary(
            fc.constantFrom("n", "s", "k"),
            fc.oneof(
              fc.double({ noNaN: true, noDefaultInfinity: true }),
              fc.string({ unit: "grapheme" }),
              fc.boolean(),
            ),
          ),
          { maxLength: 20 },
        ),
        (records) => {
          const values = keyColumnFromStrings(records.map((record) => JSON.stringify(record)));
          const numbers = native.jsonNumberField(values, "n");
          const strings = native.jsonStringField(values, "s");
          const decoded = decodeKeyColumn(strings);
          records.forEach((record, row) => {
            const n = record.n;
            expect(numbers.valid[row]).toBe(typeof n === "number" ? 1 : 0);
            // JSON.stringify writes -0 as 0, so compare the value JSON.parse reads back.
            if (typeof n === "number")
              expect(numbers.values[row]).toBe(JSON.parse(JSON.stringify(n)));
            const s = record.s;
            expect(strings.valid[row]).toBe(typeof s === "string" ? 1 : 0);
            if (typeof s === "string")
              expect(decoded[row]).toBe(new TextDecoder().decode(new TextEncoder().encode(s)));
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
