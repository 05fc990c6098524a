import {
  decodeKeyColumn,
  JsKernels,
  type Kernels,
  keyColumnFromStrings,
  NativeKernels,
  type Utf8Groups,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

const engines: ReadonlyArray<[string, () => Kernels]> = [
  ["native", () => new NativeKernels(requireNativeBinding())],
  ["js", () => new JsKernels()],
];

describe.each(engines)("byte parsers (%s kernels)", (_name, make) => {
  const kernels = make();

  it("splits lines on \\n, dropping \\r and the empty last line", () => {
    const lines = kernels.splitLines(keyColumnFromStrings(["a\nb\r\n\nc", "", "\n", "d\n", "e\r"]));
    expect(decodeKeyColumn(lines)).toEqual(["a", "b", "", "c", "", "d", "e"]);
  });

  it("splits words on ASCII whitespace only", () => {
    const words = kernels.splitWords(
      keyColumnFromStrings(["  to be\tor\r\nnot\u000bx ", "", "\u00a0é\u00a0"]),
    );
    expect(decodeKeyColumn(words)).toEqual(["to", "be", "or", "not", "x", "\u00a0é\u00a0"]);
  });

  it("reads a CSV column with quoting and reports missing fields", () => {
    const records = keyColumnFromStrings([
      "a,b,c\r\n",
      '"x,""y""",2',
      "one",
      '"q"tail,z',
      '"open,ended',
      "",
    ]);
    const first = kernels.csvColumn(records, 0);
    expect(decodeKeyColumn(first)).toEqual(["a", 'x,"y"', "one", "qtail", "open,ended", ""]);
    expect(Array.from(first.valid)).toEqual([1, 1, 1, 1, 1, 1]);
    const second = kernels.csvColumn(records, 1, ",");
    expect(decodeKeyColumn(second)).toEqual(["b", "2", "", "z", "", ""]);
    expect(Array.from(second.valid)).toEqual([1, 1, 0, 1, 0, 0]);
    const tabs = kernels.csvColumn(keyColumnFromStrings(["a\tb"]), 1, "\t");
    expect(decodeKeyColumn(tabs)).toEqual(["b"]);
  });

  it("rejects a delimiter it cannot use", () => {
    const records = keyColumnFromStrings(["a"]);
    for (const delimiter of ['"', "\n", ",,", "é", ""]) {
      expect(() => kernels.csvColumn(records, 0, delimiter)).toThrowError(
        expect.objectContaining({
          code: "SLUICE_NATIVE_INVALID_ARGUMENT",
          message: expect.stringContaining("delimiter"),
        }),
      );
    }
    expect(() => kernels.csvColumn(records, -1)).toThrowError(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
    );
  });

  it("reads JSON members: first one wins, escapes decoded, bad rows invalid", () => {
    const records = keyColumnFromStrings([
      String.raw`{"a": 1, "n": -2.5e3, "s": "x\"\u00e9\ud83d\ude42"}`,
      `{"nested": {"n": 1, "s": "no"}, "n": 7, "s": "yes"}`,
      `{"n": "12", "s": 3}`,
      `{"n": 01}`,
      "[1, 2]",
      String.raw`{"n": 1, "n": 2, "s": "\ud800!"}`,
      String.raw`{"\u006e": 5e400}`,
      "",
    ]);
    const numbers = kernels.jsonNumberField(records, "n");
    expect(Array.from(numbers.valid)).toEqual([1, 1, 0, 0, 0, 1, 1, 0]);
    expect(Array.from(numbers.values)).toEqual([
      -2500,
      7,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      1,
      Number.POSITIVE_INFINITY,
      Number.NaN,
    ]);
    const strings = kernels.jsonStringField(records, "s");
    expect(Array.from(strings.valid)).toEqual([1, 1, 0, 0, 0, 1, 0, 0]);
    expect(decodeKeyColumn(strings)).toEqual(['x"é🙂', "yes", "", "", "", "\ufffd!", "", ""]);
  });
});

describe.each(engines)("countParsed (%s kernels)", (_name, make) => {
  const kernels = make();
  const groupsOf = (groups: {
    keys: Parameters<typeof decodeKeyColumn>[0];
    values: Float64Array;
  }) => decodeKeyColumn(groups.keys).map((key, i) => [key, groups.values[i]]);

  it("counts words in first-seen order, placed by hash when asked", async () => {
    const values = keyColumnFromStrings(["b a b", "", " c\ta\n"]);
    const [all] = kernels.countParsed(values, { kind: "words" });
    expect(groupsOf(all as Utf8Groups)).toEqual([
      ["b", 2],
      ["a", 2],
      ["c", 1],
    ]);
    const placed = await kernels.countParsedAsync(values, { kind: "words" }, 2);
    const partitions = kernels.hashPartitionUtf8(keyColumnFromStrings(["b", "a", "c"]), 2);
    expect(placed.map((part) => groupsOf(part).map(([key]) => key))).toEqual(
      [0, 1].map((p) => ["b", "a", "c"].filter((_, i) => partitions[i] === p)),
    );
  });

  it("counts only the valid rows of a CSV column or JSON member", () => {
    const csv = keyColumnFromStrings(["x;1", "y", "x;2", '"x";3']);
    const [fields] = kernels.countParsed(csv, { kind: "csvColumn", index: 0, delimiter: ";" });
    expect(groupsOf(fields as Utf8Groups)).toEqual([
      ["x", 3],
      ["y", 1],
    ]);
    const [second] = kernels.countParsed(csv, { kind: "csvColumn", index: 1, delimiter: ";" });
    expect(groupsOf(second as Utf8Groups)).toEqual([
      ["1", 1],
      ["2", 1],
      ["3", 1],
    ]);
    const json = keyColumnFromStrings(['{"s": "é"}', '{"s": 1}', '{"s": "\\u00e9"}', "x"]);
    const [strings] = kernels.countParsed(json, { kind: "jsonStringField", field: "s" });
    expect(groupsOf(strings as Utf8Groups)).toEqual([["é", 2]]);
  });

  it("rejects bad arguments with the native codes", async () => {
    const values = keyColumnFromStrings(["a"]);
    expect(() => kernels.countParsed(values, { kind: "words" }, 0)).toThrowError(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
    );
    expect(() =>
      kernels.countParsed(values, { kind: "csvColumn", index: 0, delimiter: '"' }),
    ).toThrowError(expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }));
    expect(() => kernels.countParsed(values, { kind: "json" } as never)).toThrowError(
      expect.objectContaining({ code: "SLUICE_NATIVE_INVALID_ARGUMENT" }),
    );
    const broken = { keys: new Uint8Array(1), offsets: Uint32Array.of(0, 2) };
    await expect(kernels.countParsedAsync(broken, { kind: "lines" })).rejects.toMatchObject({
      code: "SLUICE_NATIVE_INVALID_OFFSETS",
    });
    await expect(kernels.splitWordsAsync(broken)).rejects.toMatchObject({
      code: "SLUICE_NATIVE_INVALID_OFFSETS",
    });
  });
});
