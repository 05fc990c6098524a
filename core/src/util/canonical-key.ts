/**
 * The canonical text of a key: two keys are the same key exactly when their canonical texts are
 * equal. Primitives keep their value (`1` and `1n` differ, `-0` is `0`); arrays and objects are
 * compared by structure (object properties sorted by name), so `["a", 1]` works as a composite key.
 *
 * @example
 * canonicalKey({ b: 1, a: [2, "x"] }); // '{"a":[2,"x"],"b":1}'
 */
export function canonicalKey(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "undefined";
    case "symbol":
      return `Symbol(${value.description ?? ""})`;
    case "function":
      return `function ${value.name}`;
    default:
      return canonicalObject(value as object | null);
  }
}

function canonicalObject(value: object | null): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(",")}]`;
  if (value instanceof Date) return `Date(${value.getTime()})`;
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${canonicalKey(k)}=>${canonicalKey(v)}`).sort();
    return `Map{${entries.join(",")}}`;
  }
  if (value instanceof Set) return `Set{${[...value].map(canonicalKey).sort().join(",")}}`;
  const record = value as Record<string, unknown>;
  const fields = Object.keys(record)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canonicalKey(record[name])}`);
  return `{${fields.join(",")}}`;
}
