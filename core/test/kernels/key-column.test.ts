import fc from "fast-check";
import { keyColumnFromStrings } from "sluice/advanced";
import { describe, expect, it } from "vitest";
import {
  decodeKeyColumn,
  decodeKeyColumnWith,
  forEachDecodedKey,
  keyColumnFromStringsOneByOne,
} from "../../src/kernels/key-column.js";

const encoder = new TextEncoder();

/** What encoding each string on its own with `TextEncoder` gives. */
function encodedOneByOne(values: readonly string[]): { keys: number[]; offsets: number[] } {
  const keys: number[] = [];
  const offsets = [0];
  for (const value of values) {
    keys.push(...encoder.encode(value));
    offsets.push(keys.length);
  }
  return { keys, offsets };
}

function plain(column: { keys: Uint8Array; offsets: Uint32Array }) {
  return { keys: Array.from(column.keys), offsets: Array.from(column.offsets) };
}

/** Any UTF-16 code unit, lone surrogates included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const awkwardUnit = fc.constantFrom("a", "", "é", "\ud800", "\udc00", "🙂", "\u0000", " ");
/** Up to `maxLength` strings of any code units, lone surrogates and awkward ones included. */
const stringsArb = (maxLength: number) =>
  fc.array(fc.string({ unit: fc.oneof(anyUnit, awkwardUnit), maxLength: 6 }), { maxLength });

describe("keyColumnFromStrings", () => {
  it("encodes ASCII, non-ASCII and empty strings as TextEncoder does", () => {
    for (const values of [[], [""], ["", ""], ["a", "bb", ""], ["é", "", "日本", "🙂x"]]) {
      expect(plain(keyColumnFromStrings(values))).toEqual(encodedOneByOne(values));
    }
  });

  it("writes lone surrogates as U+FFFD, never pairing them across strings", () => {
    const values = ["a\ud800", "\udc00b", "\udc00", "\ud800"];
    expect(plain(keyColumnFromStrings(values))).toEqual(encodedOneByOne(values));
    expect(Array.from(keyColumnFromStrings(["\ud800", "\udc00"]).keys)).toEqual([
      0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd,
    ]);
  });

  it("gives TextEncoder's bytes for any code units", () => {
    fc.assert(
      fc.property(stringsArb(20), (values) => {
        const expected = encodedOneByOne(values);
        expect(plain(keyColumnFromStrings(values))).toEqual(expected);
        expect(plain(keyColumnFromStringsOneByOne(values))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("gives TextEncoder's bytes for thousands of strings, ASCII or not anywhere among them", () => {
    // Past 1024 rows ASCII strings are written a piece at a time; any other unit, in any
    // piece, takes the general path.
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 3000 }),
        fc.option(fc.tuple(fc.nat(), fc.constantFrom("é", "\ud800", "🙂", "\u0080")), {
          nil: undefined,
        }),
        (rows, odd) => {
          const values = Array.from({ length: rows }, (_, row) => `w${row % 97}`.repeat(row % 3));
          if (odd !== undefined) values[odd[0] % rows] = `x${odd[1]}`;
          expect(plain(keyColumnFromStrings(values))).toEqual(encodedOneByOne(values));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("owns its memory (not a slice of Buffer's shared pool)", () => {
    const column = keyColumnFromStrings(["ab", "c"]);
    expect(column.keys.byteOffset).toBe(0);
    expect(column.keys.buffer.byteLength).toBe(3);
  });
});

describe("decodeKeyColumnWith", () => {
  it("hands each row's string, as decodeKeyColumn decodes it, with its row to the maker", () => {
    fc.assert(
      fc.property(stringsArb(40), (values) => {
        const column = keyColumnFromStrings(values);
        const made = decodeKeyColumnWith(column, (key, row) => [key, row] as const);
        expect(made).toEqual(decodeKeyColumn(column).map((key, row) => [key, row]));
      }),
    );
  });

  it("decodes invalid UTF-8 as decodeKeyColumn does, and refuses bad offsets alike", () => {
    const column = { keys: Uint8Array.of(0x61, 0xff, 0x62), offsets: Uint32Array.of(0, 1, 3) };
    expect(decodeKeyColumnWith(column, (key) => key)).toEqual(["a", "\ufffdb"]);
    const bad = { keys: Uint8Array.of(0x61), offsets: Uint32Array.of(0, 2) };
    expect(() => decodeKeyColumnWith(bad, (key) => key)).toThrow(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_OFFSETS" }),
    );
  });
});

describe("forEachDecodedKey", () => {
  const visited = (column: { keys: Uint8Array; offsets: Uint32Array }) => {
    const out: [string, number][] = [];
    forEachDecodedKey(column, (key, row) => {
      out.push([key, row]);
    });
    return out;
  };

  it("hands over each row's string, as decodeKeyColumn decodes it, with its row, in order", () => {
    fc.assert(
      fc.property(stringsArb(40), (values) => {
        const column = keyColumnFromStrings(values);
        expect(visited(column)).toEqual(decodeKeyColumn(column).map((key, row) => [key, row]));
      }),
    );
  });

  it("decodes invalid UTF-8 as decodeKeyColumn does, and refuses bad offsets alike", () => {
    const column = { keys: Uint8Array.of(0x61, 0xff, 0x62), offsets: Uint32Array.of(0, 1, 3) };
    expect(visited(column)).toEqual([
      ["a", 0],
      ["\ufffdb", 1],
    ]);
    const bad = { keys: Uint8Array.of(0x61), offsets: Uint32Array.of(0, 2) };
    expect(() => visited(bad)).toThrow(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_OFFSETS" }),
    );
  });
});
