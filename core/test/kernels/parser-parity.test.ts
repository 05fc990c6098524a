// The byte parsers give the same rows in the native kernels and in their TypeScript twin, on
// generated records: JSON with nesting, escapes, duplicate and escaped member names, numbers at
// the edges and malformed text; CSV with quotes; any bytes for lines and words.
import fc from "fast-check";
import { JsKernels, type KeyColumn, keyColumnFromStrings, NativeKernels } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

const native = new NativeKernels(requireNativeBinding());
const js = new JsKernels();

const rows = (column: KeyColumn) => ({
  keys: Array.from(column.keys.subarray(0, column.offsets[column.offsets.length - 1])),
  offsets: Array.from(column.offsets),
});

// JSON-ish text: mostly well-formed, often not.
const jsonScalar = fc.oneof(
  fc.string({ maxLength: 6 }).map((text) => JSON.stringify(text)),
  fc.constantFrom(
    String.raw`"\u00e9"`,
    String.raw`"\ud83d\ude42"`,
    String.raw`"\ud800"`,
    String.raw`"\udc00x"`,
    String.raw`"a\"b\\c\/d\b\f\n\r\t"`,
    String.raw`"\x"`,
    String.raw`"\u12"`,
    '"unterminated',
    '"tab\there"',
    "-0",
    "1e400",
    "-1e-400",
    "0.5",
    "01",
    "1.",
    ".5",
    "+1",
    "1e",
    "true",
    "null",
    "NaN",
  ),
  fc.double().map((n) => JSON.stringify(n)),
);
const memberName = fc.constantFrom('"s"', '"n"', String.raw`"\u0073"`, '"s "', '"S"', '"x"');
const jsonValue: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonScalar,
    fc
      .array(
        fc.tuple(memberName, tie("value") as fc.Arbitrary<string>, fc.constantFrom("", " ", "\n")),
        {
          maxLength: 4,
        },
      )
      .map((members) => `{${members.map(([k, v, ws]) => `${ws}${k}${ws}:${ws}${v}`).join(",")}}`),
    fc
      .array(tie("value") as fc.Arbitrary<string>, { maxLength: 3 })
      .map((items) => `[${items.join(",")}]`),
  ),
})).value;
const jsonRecord = fc.oneof(
  jsonValue,
  jsonValue.map((text) => text.slice(0, Math.max(0, text.length - 1))),
  jsonValue.map((text) => ` ${text} x`),
);

describe("byte parsers: native kernels and the TypeScript twin agree", () => {
  it("jsonStringField and jsonNumberField", () => {
    fc.assert(
      fc.property(
        fc.array(jsonRecord, { maxLength: 8 }),
        fc.constantFrom("s", "n"),
        (records, field) => {
          const column = keyColumnFromStrings(records);
          const a = native.jsonStringField(column, field);
          const b = js.jsonStringField(column, field);
          expect({ rows: rows(a), valid: Array.from(a.valid) }).toEqual({
            rows: rows(b),
            valid: Array.from(b.valid),
          });
          const x = native.jsonNumberField(column, field);
          const y = js.jsonNumberField(column, field);
          expect({ values: Array.from(x.values), valid: Array.from(x.valid) }).toEqual({
            values: Array.from(y.values),
            valid: Array.from(y.valid),
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("on raw bytes: invalid UTF-8 inside and outside JSON strings, CSV, lines and words", () => {
    const piece = fc.oneof(
      jsonRecord.map((text) => new TextEncoder().encode(text)),
      fc.constantFrom(
        Uint8Array.of(0xff),
        Uint8Array.of(0xc3),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xef, 0xbb, 0xbf),
        Uint8Array.of(0x22),
        Uint8Array.of(0x2c),
        Uint8Array.of(0x0a),
        Uint8Array.of(0x0d),
        Uint8Array.of(0x20),
        Uint8Array.of(0x09),
        Uint8Array.of(0x0b),
        Uint8Array.of(0x0c),
      ),
      fc.uint8Array({ maxLength: 4 }),
    );
    const record = fc.array(piece, { maxLength: 6 }).map((parts) => {
      const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
      return bytes;
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 6 }), (records) => {
        const offsets = new Uint32Array(records.length + 1);
        records.forEach((bytes, i) => {
          offsets[i + 1] = (offsets[i] as number) + bytes.length;
        });
        const keys = new Uint8Array(offsets[records.length] as number);
        records.forEach((bytes, i) => {
          keys.set(bytes, offsets[i] as number);
        });
        const column: KeyColumn = { keys, offsets };
        for (const field of ["s", "n"]) {
          const a = native.jsonStringField(column, field);
          const b = js.jsonStringField(column, field);
          expect({ field, rows: rows(a), valid: Array.from(a.valid) }).toEqual({
            field,
            rows: rows(b),
            valid: Array.from(b.valid),
          });
          const x = native.jsonNumberField(column, field);
          const y = js.jsonNumberField(column, field);
          expect({ field, values: Array.from(x.values), valid: Array.from(x.valid) }).toEqual({
            field,
            values: Array.from(y.values),
            valid: Array.from(y.valid),
          });
        }
        for (const index of [0, 1]) {
          const a = native.csvColumn(column, index, ",");
          const b = js.csvColumn(column, index, ",");
          expect({ index, rows: rows(a), valid: Array.from(a.valid) }).toEqual({
            index,
            rows: rows(b),
            valid: Array.from(b.valid),
          });
        }
        expect(rows(native.splitLines(column))).toEqual(rows(js.splitLines(column)));
        expect(rows(native.splitWords(column))).toEqual(rows(js.splitWords(column)));
      }),
      { numRuns: 2000 },
    );
  });
});
