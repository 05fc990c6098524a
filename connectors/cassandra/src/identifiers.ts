import { SluiceError } from "sluice/connector";
import { z } from "zod";

/**
 * Keyspace and table names: a letter, then letters, digits or `_`, at most 48 in all (what
 * Cassandra accepts for them). Nothing else is ever put into CQL text.
 */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/** Column names: a letter, then letters, digits or `_`, at most 128 in all. */
export const COLUMN_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;

const NAME_RULE = "must be a letter followed by letters, digits or _ (at most 48)";
const COLUMN_RULE = "must be a letter followed by letters, digits or _ (at most 128)";

/** A keyspace or table name in a config. */
export const cqlName = z.string().regex(NAME_PATTERN, NAME_RULE);

/** A column name in a config. */
export const cqlColumn = z.string().regex(COLUMN_PATTERN, COLUMN_RULE);

/**
 * A validated name, double-quoted for CQL. Quoting keeps the name exactly as given (Cassandra
 * folds unquoted names to lower case) and, with the pattern, makes CQL injection through names
 * impossible: a name can hold neither a quote nor a space.
 *
 * @example
 * quoteName("Events", "table"); // "\"Events\""
 */
export function quoteName(name: string, what: "keyspace" | "table" | "column"): string {
  const pattern = what === "column" ? COLUMN_PATTERN : NAME_PATTERN;
  if (!pattern.test(name)) {
    throw new SluiceError(
      "SLUICE_INVALID_ARGUMENT",
      `${JSON.stringify(name)} is not a valid Cassandra ${what} name: it ${what === "column" ? COLUMN_RULE : NAME_RULE}.`,
    );
  }
  return `"${name}"`;
}

/**
 * `"keyspace"."table"`, both validated and quoted.
 *
 * @example
 * qualifiedTable("shop", "orders"); // "\"shop\".\"orders\""
 */
export function qualifiedTable(keyspace: string, table: string): string {
  return `${quoteName(keyspace, "keyspace")}.${quoteName(table, "table")}`;
}
