import { canonicalCqlType } from "./cql-types.js";
import type { TableSchema } from "./sink-config.js";

/** A column of an existing table, as `system_schema.columns` lists it. */
export interface ExistingColumn {
  readonly name: string;
  /** `partition_key`, `clustering`, `regular` or `static`. */
  readonly kind: string;
  /** Its place in the partition or clustering key (-1 for other columns). */
  readonly position: number;
  /** Its CQL type as Cassandra prints it (`text`, `frozen<list<int>>`). */
  readonly type: string;
}

/**
 * How an existing table differs from a declared schema: each declared column missing or of
 * another type, and a partition or clustering key that is not the declared one. Empty when
 * the table matches. `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is, so a
 * difference would otherwise show up only as every record being refused.
 *
 * @example
 * schemaDifferences(schema, [{ name: "n", kind: "regular", position: -1, type: "text" }]);
 * // ['column "n" is text, declared int', ...]
 */
export function schemaDifferences(
  schema: TableSchema,
  existing: readonly ExistingColumn[],
): string[] {
  const byName = new Map(existing.map((column) => [column.name, column]));
  const differences: string[] = [];
  for (const [name, declared] of Object.entries(schema.columns)) {
    const column = byName.get(name);
    if (column === undefined) {
      differences.push(`column "${name}" (declared ${declared}) is missing`);
    } else if (comparable(column.type) !== comparable(declared)) {
      differences.push(`column "${name}" is ${column.type}, declared ${declared}`);
    }
  }
  for (const [label, kind, declared] of [
    ["partition key", "partition_key", schema.partitionKey],
    ["clustering key", "clustering", schema.clusteringKey],
  ] as const) {
    const actual = existing
      .filter((column) => column.kind === kind)
      .sort((a, b) => a.position - b.position)
      .map((column) => column.name);
    if (actual.join(",") !== declared.join(",")) {
      differences.push(`the ${label} is (${actual.join(", ")}), declared (${declared.join(", ")})`);
    }
  }
  return differences;
}

// Cassandra prints varchar as text, its alias; anything it prints that is not a type a schema
// may declare (a user-defined type, a vector) never equals a declared one.
function comparable(type: string): string {
  const canonical = canonicalCqlType(type) ?? `?${type}`;
  return canonical.replace(/\bvarchar\b/g, "text");
}
