import { RecordTemplate } from "sluice/connector";
import { describe, expect, it } from "vitest";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

describe("RecordTemplate", () => {
  it("fills the key, headers and JSON fields of a record", () => {
    const template = RecordTemplate.parse("orders.{header.region}.{key}.{json.sensor.id}");
    const record = {
      value: bytes('{"sensor":{"id":7},"t":1}'),
      key: bytes("k-1"),
      headers: { region: bytes("eu") },
    };
    expect(template.render(record)).toBe("orders.eu.k-1.7");
    expect(template.constant).toBe(false);
  });

  it("keeps plain text and doubled braces as they are", () => {
    const template = RecordTemplate.parse("a.{{literal}}.b");
    expect(template.render({ value: bytes("x") })).toBe("a.{literal}.b");
    expect(template.constant).toBe(true);
    expect(RecordTemplate.parse("").render({ value: bytes("x") })).toBe("");
  });

  it("names what is wrong with a template", () => {
    expect(RecordTemplate.problem("a.{nope}")).toMatch(/unknown placeholder \{nope\}; use \{key\}/);
    expect(RecordTemplate.problem("a.{key")).toBe('the "{" at position 2 is never closed');
    expect(RecordTemplate.problem("a}")).toMatch(/a "}" at position 1 closes nothing/);
    expect(RecordTemplate.problem("{json}")).toMatch(/unknown placeholder/);
    expect(RecordTemplate.problem("{key}.{header.x-y}")).toBeUndefined();
  });

  it("says which part a record lacks", () => {
    const render = (template: string, record: Parameters<RecordTemplate["render"]>[0]) => () =>
      RecordTemplate.parse(template).render(record);
    expect(render("{key}", { value: bytes("v") })).toThrow("{key} needs a record key");
    expect(render("{header.region}", { value: bytes("v"), headers: {} })).toThrow(
      '{header.region} needs the header "region"',
    );
    expect(render("{json.a}", { value: bytes("not json") })).toThrow("does not parse");
    expect(render("{json.a.b}", { value: bytes('{"a":{}}') })).toThrow(
      "{json.a.b} is missing from the JSON value",
    );
    expect(render("{json.a}", { value: bytes('{"a":[1]}') })).toThrow(
      "must be a string, number or boolean",
    );
    expect(render("{key}", { value: bytes("v"), key: new Uint8Array([0xff]) })).toThrow(
      "the record key is not valid UTF-8",
    );
  });
});
