import type { metadata } from "cassandra-driver";
import * as driver from "cassandra-driver";
import type { ColumnSource } from "./row-mapping.js";

type DataTypeInfo = metadata.DataTypeInfo;

/** The driver's value encoder: public in cassandra-driver but missing from its type declarations. */
interface ValueEncoder {
  encode(value: unknown, type: DataTypeInfo): unknown;
}
type EncoderConstructor = new (
  protocolVersion: number,
  options: { encoding: { useUndefinedAsUnset: boolean } },
) => ValueEncoder;

const Encoder = Reflect.get(driver, "Encoder") as EncoderConstructor | undefined;
// Type checks do not depend on the protocol version; v4 is the lowest Cassandra 4+ speaks.
const encoder =
  typeof Encoder === "function"
    ? new Encoder(driver.types.protocolVersion.v4, { encoding: { useUndefinedAsUnset: true } })
    : undefined;

const TYPE_NAMES = new Map<number, string>(
  Object.entries(driver.types.dataTypes)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([name, code]) => [code, name]),
);

/**
 * Which column of a row the driver cannot encode, and why — what a bare driver `TypeError`
 * ("Expected Number, obtained 'abc'") leaves out. Undefined when every value encodes (or the
 * driver has no encoder to ask).
 *
 * @example
 * columnRefusal([{ column: "n", path: ["n"] }], ["abc"], new Map([["n", { code: 9 }]]));
 * // 'column "n" (int, from field "n") cannot take "abc": Expected Number, obtained \'abc\''
 */
export function columnRefusal(
  columns: readonly ColumnSource[],
  values: readonly unknown[],
  types: ReadonlyMap<string, DataTypeInfo>,
): string | undefined {
  if (encoder === undefined) return undefined;
  for (const [index, { column, path }] of columns.entries()) {
    const type = types.get(column);
    const value = values[index];
    if (type === undefined) continue;
    try {
      encoder.encode(value, type);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return `column "${column}" (${typeName(type)}, from field "${path.join(".")}") cannot take ${shown(value)}: ${reason}`;
    }
  }
  return undefined;
}

/** `map<text, int>` for a driver type description. */
function typeName(type: DataTypeInfo): string {
  const name = TYPE_NAMES.get(type.code) ?? `type ${type.code}`;
  const info = type.info;
  if (info === null || info === undefined || typeof info === "string") return name;
  const parts = Array.isArray(info) ? info : [info];
  return `${name}<${parts.map(typeName).join(", ")}>`;
}

// A short view of the value: enough to find it in the record, never the whole of a huge one.
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
