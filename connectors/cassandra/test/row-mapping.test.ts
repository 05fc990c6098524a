import { describe, expect, it } from "vitest";
import { columnsOfRow, rowOf, valueAt } from "../src/row-mapping.js";

const position = { batchTime: 1_700_000_000_000, partition: 2, index: 5 };
const encoder = new TextEncoder();

describe("rows from records", () => {
  it("decodes a JSON object, or asks mapRecord", () => {
    expect(rowOf({ value: encoder.encode('{"a":1,"b":{"c":"x"}}') }, position)).toEqual({
      a: 1,
      b: { c: "x" },
    });
    expect(
      rowOf({ value: encoder.encode("7") }, position, (record, at) => ({
        n: Number(new TextDecoder().decode(record.value)),
        at: at.index,
      })),
    ).toEqual({ n: 7, at: 5 });
  });

  it("names the record when it is not a row", () => {
    const prefix = "Record 5 of the batch at 1700000000000 (partition 2)";
    expect(() => rowOf({ value: encoder.encode("{") }, position)).toThrow(`${prefix} is not JSON`);
    expect(() => rowOf({ value: encoder.encode("null") }, position)).toThrow(
      "not an object (null)",
    );
    expect(() => rowOf({ value: new Uint8Array([0xff]) }, position)).toThrow("is not JSON");
    expect(() => rowOf({ value: new Uint8Array() }, position, () => [1] as never)).toThrow(
      "mapRecord must return an object",
    );
    expect(() =>
      rowOf({ value: new Uint8Array() }, position, () => {
        throw new Error("boom");
      }),
    ).toThrow("mapRecord threw boom");
  });

  it("takes a row's fields as columns only when they are plain names", () => {
    expect(columnsOfRow({ b: 1, a: 2 }, position).map((c) => c.column)).toEqual(["a", "b"]);
    expect(() => columnsOfRow({ 'a"; DROP': 1 }, position)).toThrow(/not a valid column name/);
  });

  it("reads nested fields and leaves missing ones undefined", () => {
    const row = { user: { id: 7, tags: ["x"] }, n: null };
    expect(valueAt(row, ["user", "id"])).toBe(7);
    expect(valueAt(row, ["user", "tags", "0"])).toBe("x");
    expect(valueAt(row, ["n"])).toBeNull();
    expect(valueAt(row, ["n", "deeper"])).toBeUndefined();
    expect(valueAt(row, ["absent"])).toBeUndefined();
  });

  it("reads only a row's own fields: a field named like an Object method is missing when absent", () => {
    const row = { id: 1, meta: { source: "s1" } };
    for (const name of ["constructor", "toString", "valueOf", "__proto__", "hasOwnProperty"]) {
      expect(valueAt(row, [name]), name).toBeUndefined();
      expect(valueAt(row, ["meta", name]), name).toBeUndefined();
    }
    expect(valueAt(row, ["meta", "source", "length"])).toBeUndefined();
    expect(valueAt({ constructor: "given" }, ["constructor"])).toBe("given");
  });
});
