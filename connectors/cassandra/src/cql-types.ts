import { z } from "zod";

/** Native CQL types a declared schema may use (`counter` cannot be written by INSERT). */
export const NATIVE_TYPES = new Set([
  "ascii",
  "bigint",
  "blob",
  "boolean",
  "date",
  "decimal",
  "double",
  "duration",
  "float",
  "inet",
  "int",
  "smallint",
  "text",
  "time",
  "timestamp",
  "timeuuid",
  "tinyint",
  "uuid",
  "varchar",
  "varint",
]);

const COLLECTIONS: Record<string, number> = { list: 1, set: 1, map: 2, frozen: 1 };

/**
 * The canonical text of a CQL type (`map<text, frozen<list<int>>>`), or undefined when `text`
 * is not one: native types and `list`, `set`, `map`, `tuple`, `frozen` of them. User-defined
 * types are not accepted, so nothing but these words and `<`, `>`, `,` reaches CQL text.
 *
 * @example
 * canonicalCqlType("Map<TEXT,int>"); // "map<text, int>"
 * canonicalCqlType("text); DROP TABLE x"); // undefined
 */
export function canonicalCqlType(text: string): string | undefined {
  const tokens = text.toLowerCase().match(/[a-z]+|[<>,]|\S/g) ?? [];
  let position = 0;
  const parse = (): string | undefined => {
    const word = tokens[position++];
    if (word === undefined) return undefined;
    if (NATIVE_TYPES.has(word)) return word;
    const arity = word === "tuple" ? -1 : COLLECTIONS[word];
    if (arity === undefined || tokens[position++] !== "<") return undefined;
    const parts: string[] = [];
    for (;;) {
      const part = parse();
      if (part === undefined) return undefined;
      parts.push(part);
      const separator = tokens[position++];
      if (separator === ">") break;
      if (separator !== ",") return undefined;
    }
    if (arity !== -1 && parts.length !== arity) return undefined;
    return `${word}<${parts.join(", ")}>`;
  };
  const type = parse();
  return position === tokens.length ? type : undefined;
}

/** A CQL type in a declared schema, canonicalised. */
export const cqlType = z.string().transform((text, ctx) => {
  const canonical = canonicalCqlType(text);
  if (canonical === undefined) {
    ctx.addIssue({
      code: "custom",
      message:
        "must be a CQL type: a native type such as text, int, bigint, uuid, timestamp, or list/set/map/tuple/frozen of them",
    });
    return z.NEVER;
  }
  return canonical;
});
